"""The workspace's admin menu, and the permission policy its screens use."""

from wagtail import hooks
from wagtail.permissions import register_permission_policy

from reports.models import Report

from .admin_views import InboxViewSet, report_policy

# Before any viewset asks the registry, or it would settle on a fallback policy.
register_permission_policy(Report, report_policy)


@hooks.register("register_admin_viewset")
def register_inbox():
    return InboxViewSet()
