"""Admin screens of municipalities: the categories. Bodies and routes are shown in
the case hub's "Case systems" menu (casehub.wagtail_hooks)."""

from wagtail.snippets.models import register_snippet

from .admin_views import CategoryViewSet

register_snippet(CategoryViewSet)
