"""The staff workspace's admin screens: the inbox of the reports that bodies work
in Knutpunkt itself, and a report's screen.

Administrators, case handlers and contact-centre agents see the inbox of their
kommun. Who sees what comes from municipalities.staff through the scoped admin
kit (municipalities.staff_admin).
"""

from __future__ import annotations

import django_filters
from django import forms
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Exists, OuterRef, QuerySet
from django.shortcuts import redirect
from django.utils.functional import cached_property
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from wagtail.admin import messages
from wagtail.admin.filters import WagtailFilterSet
from wagtail.admin.ui.tables import Column, DateColumn, TitleColumn

from casehub.models import Delivery
from municipalities.choices import ConnectionKind
from municipalities.staff import (
    CASEWORK_ROLES,
    staff_report_scope,
    staff_status_scope,
)
from municipalities.staff_admin import (
    ReadOnlyScopedViewSet,
    ScopedIndexView,
    ScopedInspectView,
    StaffScopePolicy,
)
from reports.choices import ReportStatus
from reports.models import Report
from reports.services import report_transition

STAFF_STATUS_CHOICES = [
    (value, label)
    for value, label in ReportStatus.choices
    if value != ReportStatus.UNCONFIRMED
]


def inbox_reports(user, roles) -> QuerySet[Report]:
    """Confirmed reports of the user's kommuner that went to Knutpunkt's own
    inbox (the body works them here, not in a case system of its own)."""
    to_inbox = Delivery.objects.filter(
        report=OuterRef("pk"), connection__kind=ConnectionKind.INBOX
    )
    return (
        Report.objects.filter(staff_report_scope(user, roles))
        .exclude(status=ReportStatus.UNCONFIRMED)
        .filter(Exists(to_inbox))
    )


report_policy = StaffScopePolicy(
    Report,
    scope=inbox_reports,
    roles=CASEWORK_ROLES,
    actions={"view"},
)


class InboxFilterSet(WagtailFilterSet):
    status = django_filters.MultipleChoiceFilter(
        label=gettext_lazy("Status"),
        choices=STAFF_STATUS_CHOICES,
        widget=forms.CheckboxSelectMultiple,
    )

    class Meta:
        model = Report
        fields = ["status"]


class InboxIndexView(ScopedIndexView):
    page_title = gettext_lazy("Inbox")

    def get_base_queryset(self):
        return super().get_base_queryset().order_by("-created_at")

    @cached_property
    def columns(self):
        # No reporter's name, e-mail or phone here: the detail page shows them,
        # and only with the reporter's consent.
        title_column = self._get_title_column_class(TitleColumn)
        return [
            title_column(
                "title",
                label=_("Report"),
                accessor=lambda r: f"#{r.pk} {r.title}",
                get_url=self.get_inspect_url,
                sort_key="pk",
            ),
            Column("category", label=_("Category"), sort_key="category__name"),
            Column("municipality", label=_("Municipality")),
            Column("body", label=_("Body")),
            Column(
                "status",
                label=_("Status"),
                accessor="get_status_display",
                sort_key="status",
            ),
            DateColumn("created_at", label=_("Reported"), sort_key="created_at"),
        ]


class StatusForm(forms.Form):
    status = forms.ChoiceField(
        label=gettext_lazy("Status"), choices=STAFF_STATUS_CHOICES
    )
    note = forms.CharField(
        label=gettext_lazy("Public note"),
        required=False,
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=gettext_lazy("Shown on the report's public page."),
    )


class InboxReportView(ScopedInspectView):
    """A report of the inbox with its timeline, and the form that changes its
    status through reports.services.report_transition."""

    template_name = "workspace/admin/inbox_report.html"
    page_title = gettext_lazy("Report")
    index_label = gettext_lazy("Inbox")

    def get_fields(self):
        # The reporter's name and contact details are shown apart, with consent.
        return [
            "category",
            "municipality",
            "body",
            "status",
            "created_at",
            "confirmed_at",
            "lat",
            "lon",
        ]

    def get_scope(self):
        return super().get_scope().select_related("category", "municipality", "body")

    def get_page_subtitle(self):
        return f"#{self.object.pk} {self.object.title}"

    @cached_property
    def can_change_status(self) -> bool:
        """The service checks this itself; here it decides whether to offer the
        form."""
        return (
            Report.objects.filter(staff_status_scope(self.request.user))
            .filter(pk=self.object.pk)
            .exists()
        )

    def get_context_data(self, form=None, **kwargs):
        context = super().get_context_data(**kwargs)
        report = self.object
        context.update(
            report=report,
            events=report.events.all(),
            photos=report.photos.all(),
            deliveries=report.deliveries.select_related("connection__body"),
            show_contact=report.share_contact,
            can_change_status=self.can_change_status,
            form=form or StatusForm(initial={"status": report.status}),
        )
        return context

    def post(self, request, *args, **kwargs):
        if not self.can_change_status:
            raise PermissionDenied
        form = StatusForm(request.POST)
        if form.is_valid():
            try:
                event = report_transition(
                    actor=request.user,
                    report_id=self.object.pk,
                    status=ReportStatus(form.cleaned_data["status"]),
                    note=form.cleaned_data["note"],
                )
            except ValidationError as error:
                for message in error.messages:
                    form.add_error(None, message)
            else:
                if event is None:
                    messages.warning(request, _("Nothing changed."))
                else:
                    messages.success(request, _("The report was updated."))
                return redirect("inbox:inspect", self.object.pk)
        return self.render_to_response(self.get_context_data(form=form))


class InboxViewSet(ReadOnlyScopedViewSet):
    model = Report
    name = "inbox"
    icon = "tasks"
    menu_label = gettext_lazy("Inbox")
    menu_order = 200
    add_to_admin_menu = True
    index_view_class = InboxIndexView
    inspect_view_class = InboxReportView
    list_select_related = ("category", "municipality", "body")
    filterset_class = InboxFilterSet
    list_per_page = 50
