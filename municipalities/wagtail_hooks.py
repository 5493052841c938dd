"""Staff screens in the Wagtail admin for categories and their extra questions."""

from django.utils.translation import gettext_lazy as _
from wagtail.snippets.models import register_snippet
from wagtail.snippets.views.snippets import SnippetViewSet

from .models import Category


class CategoryViewSet(SnippetViewSet):
    model = Category
    icon = "list-ul"
    menu_label = _("Categories")
    add_to_admin_menu = True
    list_display = ["name", "sort_order", "is_active"]
    search_fields = ["name"]


register_snippet(CategoryViewSet)
