"""Wagtail's page reports, scoped to the user's kommun (municipalities.staff).

Wagtail's page types usage report counts every page of every site and names
the last edited one, and its site filter lists every site; the site history's
filter names everyone who acted on anything the user may see. Here the first
counts only the pages of the user's sites (``staff_site_roots``) and the
second names only the staff of the user's kommuner (``staff_people``), as
does the workflow report's "requested by" filter (its rows are the pages the
user may edit already). The locked pages report adds to the pages the user may
edit those they locked themselves, wherever they are, and its "locked by"
filter names everyone who holds a lock: here it lists the pages of the user's
sites only (``staff_pages_q``), and names the staff of their kommuner. They
answer at Wagtail's own URLs (config.urls puts them first).
"""

from __future__ import annotations

import django_filters
from django.db.models import Q
from django.urls import path
from django.utils.functional import cached_property
from django.views.decorators.cache import never_cache
from wagtail.admin.auth import require_admin_access
from wagtail.admin.views.reports import (
    audit_logging,
    locked_pages,
    page_types_usage,
    workflows,
)

from municipalities.staff import staff_pages_q, staff_people, staff_site_roots


class ScopedPageTypesUsageFilterSet(page_types_usage.PageTypesUsageReportFilterSet):
    def __init__(self, *args, request=None, **kwargs):
        super().__init__(*args, request=request, **kwargs)
        if "site" in self.filters:
            roots = {root.path for root in staff_site_roots(request.user)}
            self.filters["site"].extra["choices"] = [
                (value, label)
                for value, label in page_types_usage._get_site_choices()
                if value in roots
            ]


class ScopedPageTypesUsageReportView(page_types_usage.PageTypesUsageReportView):
    filterset_class = ScopedPageTypesUsageFilterSet

    @cached_property
    def site_roots(self) -> list[str]:
        return [root.path for root in staff_site_roots(self.request.user)]

    def get_filterset_kwargs(self):
        kwargs = super().get_filterset_kwargs()
        if self.request.user.is_superuser:
            return kwargs
        roots = self.site_roots
        chosen = kwargs["data"].get("site") or ""
        # Counted and named within one of the user's sites: the one chosen,
        # else their first (an editor has one); without a site, no pages.
        data = kwargs["data"].copy()
        data["site"] = chosen if chosen in roots else (roots[0] if roots else "")
        kwargs["data"] = data
        return kwargs

    def get_queryset(self):
        queryset = super().get_queryset()
        if self.request.user.is_superuser or self.site_roots:
            return queryset
        return queryset.none()


class ScopedSiteHistoryFilterSet(audit_logging.SiteHistoryReportFilterSet):
    def get_users_queryset(self):
        people = staff_people(self.request.user).values("pk")
        return super().get_users_queryset().filter(pk__in=people)


class ScopedLogEntriesView(audit_logging.LogEntriesView):
    """Site history: what the user may see (Wagtail's permissions), done by
    the staff of the user's kommuner or by the platform itself."""

    filterset_class = ScopedSiteHistoryFilterSet

    def filter_queryset(self, queryset):
        queryset = super().filter_queryset(queryset)
        if self.request.user.is_superuser:
            return queryset
        people = staff_people(self.request.user).values("pk")
        return queryset.filter(Q(user__in=people) | Q(user__isnull=True))


class ScopedLockedPagesFilterSet(locked_pages.LockedPagesReportFilterSet):
    def __init__(self, *args, request=None, **kwargs):
        super().__init__(*args, request=request, **kwargs)
        # Who holds a lock: among the staff of the user's kommuner only.
        people = staff_people(request.user).values("pk")
        self.filters["locked_by"].queryset = locked_pages.get_users_for_filter().filter(
            pk__in=people
        )


class ScopedLockedPagesView(locked_pages.LockedPagesView):
    filterset_class = ScopedLockedPagesFilterSet

    def get_queryset(self):
        return super().get_queryset().filter(staff_pages_q(self.request.user))


def _requesters(request):
    people = staff_people(request.user).values("pk")
    return workflows.get_requested_by_queryset(request).filter(pk__in=people)


class ScopedWorkflowReportFilterSet(workflows.WorkflowReportFilterSet):
    # Who asked for a review: among the staff of the user's kommuner only.
    requested_by = django_filters.ModelChoiceFilter(
        field_name="requested_by", queryset=_requesters
    )


class ScopedWorkflowView(workflows.WorkflowView):
    filterset_class = ScopedWorkflowReportFilterSet


def _view(view_class, **kwargs):
    # As Wagtail's own admin URLs are: signed in with admin access, never cached.
    return never_cache(require_admin_access(view_class.as_view(**kwargs)))


# Wagtail's report URLs (wagtail.admin.urls.reports), under admin/reports/.
urlpatterns = [
    path(
        "page-types-usage/",
        _view(ScopedPageTypesUsageReportView),
    ),
    path(
        "page-types-usage/results/",
        _view(ScopedPageTypesUsageReportView, results_only=True),
    ),
    path("locked/", _view(ScopedLockedPagesView)),
    path("locked/results/", _view(ScopedLockedPagesView, results_only=True)),
    path("workflow/", _view(ScopedWorkflowView)),
    path("workflow/results/", _view(ScopedWorkflowView, results_only=True)),
    path("site-history/", _view(ScopedLogEntriesView)),
    path("site-history/results/", _view(ScopedLogEntriesView, results_only=True)),
]
