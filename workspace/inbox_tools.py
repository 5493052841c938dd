"""The inbox's tools beside the listing: a checkbox per report with an action bar
(workspace.bulk) and the user's saved filters (workspace.saved_filters)."""

from __future__ import annotations

from django.urls import path, reverse
from django.utils.functional import cached_property
from django.utils.html import format_html
from django.utils.translation import gettext as _
from wagtail.admin.ui.tables import BaseColumn

from .bulk import BulkForm, InboxBulkView, bulk_allowed
from .saved_filters import (
    SavedFilterCreateView,
    SavedFilterDeleteView,
    filter_query,
    saved_filters,
)


class SelectColumn(BaseColumn):
    """A checkbox per report for the action bar, and one in the header that
    selects every report on the page (Wagtail's w-bulk controller)."""

    header_template_name = "workspace/admin/select_all_header.html"

    def render_cell_html(self, instance, parent_context):
        # Written without a template: one per row of every inbox page.
        label = _("Select report #%(number)s %(title)s") % {
            "number": instance.pk,
            "title": instance.title,
        }
        return format_html(
            '<td class="inbox-select"><input type="checkbox" name="reports" '
            'value="{}" form="inbox-bulk" data-w-bulk-target="item" '
            'data-action="w-bulk#toggle" aria-label="{}"></td>',
            str(instance.pk),
            label,
        )


class InboxToolsMixin:
    """For the inbox's index view."""

    template_name = "workspace/admin/inbox_index.html"
    results_template_name = "workspace/admin/inbox_index_results.html"

    @cached_property
    def can_bulk(self) -> bool:
        return bulk_allowed(self.request.user)

    def get_table(self, object_list):
        if not self.can_bulk:
            return super().get_table(object_list)
        return self.table_class(
            [SelectColumn("select", label=_("Select")), *self.columns],
            object_list,
            **self.get_table_kwargs(),
        )

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        user = self.request.user
        context.update(
            can_bulk=self.can_bulk,
            bulk_form=BulkForm(user=user) if self.can_bulk else None,
            bulk_url=reverse("inbox:bulk"),
            filter_query=filter_query(self.request.GET),
            saved_filters=saved_filters(user),
            saved_filter_create_url=reverse("inbox:saved_filter_create"),
        )
        return context


def inbox_tools_urlpatterns() -> list:
    return [
        path("bulk/", InboxBulkView.as_view(), name="bulk"),
        path(
            "saved-filters/",
            SavedFilterCreateView.as_view(),
            name="saved_filter_create",
        ),
        path(
            "saved-filters/<int:pk>/delete/",
            SavedFilterDeleteView.as_view(),
            name="saved_filter_delete",
        ),
    ]
