"""Admin screens of municipalities: the categories and the kommuner's districts.
Bodies and routes are shown in the case hub's "Case systems" menu
(casehub.wagtail_hooks)."""

from wagtail import hooks
from wagtail.snippets.models import register_snippet

from .admin_views import CategoryViewSet, DistrictViewSet

register_snippet(CategoryViewSet)


@hooks.register("register_admin_viewset")
def register_districts():
    return DistrictViewSet()
