"""The case hub's admin menus, and the permission policies its screens use."""

from wagtail import hooks
from wagtail.permissions import register_permission_policy

from municipalities.models import Connection

from .admin_views import (
    CaseSystemsGroup,
    DeliveryViewSet,
    connection_policy,
    delivery_policy,
)
from .models import Delivery

# Before any viewset asks the registry, or it would settle on a fallback policy.
register_permission_policy(Connection, connection_policy)
register_permission_policy(Delivery, delivery_policy)


@hooks.register("register_admin_viewset")
def register_case_systems():
    return CaseSystemsGroup()


@hooks.register("register_admin_viewset")
def register_deliveries():
    return DeliveryViewSet()
