"""The kommun's "Publishing" screen (Settings → Publishing): its administrators
(superusers: every kommun's) switch moderation before publishing on or off for
the kommun's site, through ``cms.services.municipality_moderation_set``, which
checks who may and records the change in the audit log.

Built from the scoped admin kit (municipalities.staff_admin): the kommuner come
from municipalities.staff, so another kommun's is a 404 whatever the URL; there
is a listing and an edit form, nothing to add or delete. Wagtail's own screens
of workflows and tasks stay the national administrators'.
"""

from __future__ import annotations

from django.urls import path
from django.utils.translation import gettext_lazy
from wagtail.admin.panels import FieldPanel, ObjectList
from wagtail.admin.ui.tables import BooleanColumn
from wagtail.admin.views import generic
from wagtail.permissions import register_permission_policy

from municipalities.models import Municipality
from municipalities.staff import MODERATION_SETTING_ROLES, staff_municipalities
from municipalities.staff_admin import (
    ScopedIndexView,
    ScopedModelViewSet,
    ServiceErrorsMixin,
    StaffScopePolicy,
)

from .services import municipality_moderation_set


def _kommuner_with_sites(user, roles):
    return staff_municipalities(user, roles).filter(site__isnull=False)


moderation_policy = StaffScopePolicy(
    Municipality,
    scope=_kommuner_with_sites,
    roles=MODERATION_SETTING_ROLES,
    actions={"change"},
)
register_permission_policy(Municipality, moderation_policy)


class PublishingEditView(ServiceErrorsMixin, generic.EditView):
    def get_queryset(self):
        return self.permission_policy.instances_user_has_permission_for(
            self.request.user, "change"
        )

    def save_instance(self):
        return municipality_moderation_set(
            actor=self.request.user,
            municipality=self.object,
            moderation=bool(self.form.cleaned_data.get("moderation")),
        )


class PublishingIndexView(ScopedIndexView):
    # What the screen is for, not the model it lists (the kommuner).
    page_title = gettext_lazy("Publishing")


class PublishingViewSet(ScopedModelViewSet):
    """Moderation before publishing, per kommun."""

    model = Municipality
    name = "publishing"
    icon = "doc-full-inverse"
    menu_label = gettext_lazy("Publishing")
    add_to_settings_menu = True
    index_view_class = PublishingIndexView
    edit_view_class = PublishingEditView
    list_display = [
        "name",
        BooleanColumn("moderation", label=gettext_lazy("Moderation before publishing")),
    ]
    ordering = ["name"]
    edit_handler = ObjectList([FieldPanel("moderation")])

    def get_common_view_kwargs(self, **kwargs):
        view_kwargs = super().get_common_view_kwargs(**kwargs)
        for name in (
            "add_url_name",
            "delete_url_name",
            "history_url_name",
            "usage_url_name",
        ):
            view_kwargs[name] = None
        return view_kwargs

    def get_urlpatterns(self):
        return [
            path("", self.index_view, name="index"),
            path("results/", self.index_results_view, name="index_results"),
            path("edit/<int:pk>/", self.edit_view, name="edit"),
        ]
