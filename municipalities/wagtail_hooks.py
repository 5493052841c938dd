"""Admin screens of municipalities: the kommun's staff. Categories, extra
questions, bodies and routes are shown in the case hub's "Case systems" menu
(casehub.wagtail_hooks)."""

from wagtail import hooks

from .admin_views import StaffMembershipViewSet


@hooks.register("register_admin_viewset")
def register_staff():
    return StaffMembershipViewSet()
