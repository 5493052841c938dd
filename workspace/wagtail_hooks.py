"""The workspace's admin menus, and the permission policies its screens use."""

from wagtail import hooks
from wagtail.permissions import register_permission_policy

from reports.models import Report

from .admin_views import (
    InboxViewSet,
    ResponseTemplateViewSet,
    report_policy,
    template_policy,
)
from .inbox_map import inbox_map_urls
from .models import ResponseTemplate
from .on_behalf import on_behalf_urls
from .statistics import statistics_menu_item, statistics_urls

# Before any viewset asks the registry, or it would settle on a fallback policy.
register_permission_policy(Report, report_policy)
register_permission_policy(ResponseTemplate, template_policy)


@hooks.register("register_admin_viewset")
def register_inbox():
    return InboxViewSet()


@hooks.register("register_admin_viewset")
def register_response_templates():
    return ResponseTemplateViewSet()


@hooks.register("register_admin_urls")
def register_inbox_map():
    return inbox_map_urls()


@hooks.register("register_admin_urls")
def register_on_behalf():
    return on_behalf_urls()


@hooks.register("register_admin_urls")
def register_statistics():
    return statistics_urls()


@hooks.register("register_admin_menu_item")
def register_statistics_menu_item():
    return statistics_menu_item()
