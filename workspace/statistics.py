"""The staff dashboard of statistics ("Statistik", ``/admin/statistics/``):
the public pages' figures, charts, tables and CSV files (stats) over the
reports the member of staff sees in the inbox, with the inbox's own filters
(workspace.inbox_map.filtered_reports, through the inbox's filter set) and a
period. Another kommun's reports are in no figure."""

from __future__ import annotations

from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from wagtail.admin.menu import MenuItem
from wagtail.admin.views.generic.base import WagtailAdminTemplateMixin

from stats.views import statistics_answer

from .admin_views import report_policy
from .inbox_map import filtered_reports
from .listing import LIST_ONLY, filter_errors

# Query parameters of the dashboard itself, not filters of the inbox.
OWN_PARAMETERS = ("from", "to", "format", "table", "bbox", "zoom", *LIST_ONLY)


def statistics_dashboard(request):
    reports, filters = filtered_reports(request, ignore=OWN_PARAMETERS, plain=True)
    national = request.user.is_superuser
    title = _("Statistics")
    errors = filter_errors(filters) if filters.form.errors else {}
    return statistics_answer(
        request,
        reports,
        national=national,
        template="workspace/admin/statistics.html",
        context={
            "header_title": title,
            "page_title": title,
            "header_icon": "table",
            "breadcrumbs_items": [
                *WagtailAdminTemplateMixin.breadcrumbs_items,
                {"url": "", "label": title},
            ],
            "filters": filters,
            "filter_errors": errors,
            # The inbox's filters fold away unless one is in use.
            "filters_in_use": any(
                value
                for name in filters.form.fields
                for value in request.GET.getlist(name)
            ),
            "inbox_url": reverse("inbox:index"),
        },
        name="statistik",
        problems=[f"{label}: {' '.join(texts)}" for label, texts in errors.items()],
    )


class StatisticsMenuItem(MenuItem):
    def is_shown(self, request):
        return report_policy.user_has_permission(request.user, "view")


def statistics_menu_item() -> MenuItem:
    return StatisticsMenuItem(
        gettext_lazy("Statistics"),
        reverse("workspace_statistics"),
        icon_name="table",
        order=210,
    )


def statistics_urls() -> list:
    return [path("statistics/", statistics_dashboard, name="workspace_statistics")]
