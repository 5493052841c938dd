"""Casework screens in the Wagtail admin: the inbox of reports that in-platform
bodies work here, and the deliveries to case systems. Both are open to a kommun's
administrators, case handlers and contact-centre agents, for that kommun only."""

from wagtail import hooks
from wagtail.permissions import register_permission_policy

from .admin_views import DeliveryViewSet, InboxViewSet, delivery_policy, report_policy
from .models import Delivery, Report

# Before any viewset asks the registry, or it would settle on a fallback policy.
register_permission_policy(Delivery, delivery_policy)
register_permission_policy(Report, report_policy)


@hooks.register("register_admin_viewset")
def register_inbox():
    return InboxViewSet()


@hooks.register("register_admin_viewset")
def register_deliveries():
    return DeliveryViewSet()
