"""The staff workspace's admin screens: the inbox of every report in the user's
scope, whatever body and case system handles it, and a report's screen where
staff act on it; and the kommun's response templates.

What each role sees and may do is said in municipalities.staff alone; these
screens fetch through the scoped admin kit (municipalities.staff_admin), so
another kommun's report is a 404 whatever the URL, and each action goes through
a service of workspace.services that checks permission itself.
"""

from __future__ import annotations

from datetime import timedelta

import django_filters
from django import forms
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import (
    F,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
)
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone
from django.utils.functional import cached_property
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from wagtail.admin import messages
from wagtail.admin.filters import WagtailFilterSet
from wagtail.admin.forms import WagtailAdminModelForm
from wagtail.admin.panels import ObjectList
from wagtail.admin.ui.tables import Column, TitleColumn
from wagtail.admin.widgets.button import HeaderButton

from casehub.choices import DeliveryKind, DeliveryState
from casehub.models import Delivery
from casehub.outbox import UPDATED_CONNECTION_KINDS
from infra.forms import errors_to_form
from infra.labels import choice_label
from municipalities.models import Body, Category, Municipality
from municipalities.staff import (
    CASEWORK_ROLES,
    SETUP_ROLES,
    staff_bodies,
    staff_case_handlers,
    staff_category_choices,
    staff_filing_municipalities,
    staff_municipalities,
    staff_status_scope,
    staff_work_scope,
    staff_workspace_scope,
)
from municipalities.staff_admin import (
    MomentColumn,
    ReadOnlyScopedViewSet,
    ScopedIndexView,
    ScopedInspectView,
    ScopedModelViewSet,
    StaffScopePolicy,
    setup_policy,
)
from reports.choices import ReportPriority, ReportStatus
from reports.models import Report
from reports.search import reference_variants, text_q

from .areas import AreaFilter, DistrictFilter
from .due import DUE_SOON, OVERDUE, due_q
from .inbox_tools import InboxToolsMixin, inbox_tools_urlpatterns
from .listing import (
    DueColumn,
    IdsFirstPaginationMixin,
    InboxMapMixin,
    PlainColumn,
    PlainTable,
    PlainTitleColumn,
)
from .models import PLACEHOLDERS, ResponseTemplate
from .review import REVIEW_ACTIONS, ReviewMixin
from .services import (
    StaleReport,
    report_assign,
    report_note_add,
    report_priority_set,
    report_reassign,
    report_status_change,
    report_version,
)

STAFF_STATUS_CHOICES = [
    (value, label)
    for value, label in ReportStatus.choices
    if value != ReportStatus.UNCONFIRMED
]


def inbox_scope(user) -> QuerySet[Report]:
    """Confirmed reports the user sees in the workspace
    (municipalities.staff.staff_workspace_scope), whatever their delivery
    channel: the inbox's rows, and what the statistics count."""
    return Report.objects.filter(staff_workspace_scope(user)).exclude(
        status=ReportStatus.UNCONFIRMED
    )


def inbox_reports(user, roles=None) -> QuerySet[Report]:
    """The inbox's reports (``inbox_scope``) with their newest delivery's
    state and external reference."""
    newest = Delivery.objects.filter(
        report=OuterRef("pk"), kind=DeliveryKind.CASE
    ).order_by("-pk")
    return (
        inbox_scope(user)
        .defer("search_text")  # searched, never shown
        .annotate(
            delivery_state=Subquery(newest.values("state")[:1]),
            delivery_reference=Subquery(newest.values("external_id")[:1]),
        )
    )


report_policy = StaffScopePolicy(
    Report,
    scope=inbox_reports,
    roles=CASEWORK_ROLES,
    actions={"view"},
)


AGE_CHOICES = [
    ("1", gettext_lazy("Older than a day")),
    ("7", gettext_lazy("Older than a week")),
    ("30", gettext_lazy("Older than 30 days")),
    ("90", gettext_lazy("Older than 90 days")),
]
DUE_CHOICES = [
    (DUE_SOON, gettext_lazy("Due soon")),
    (OVERDUE, gettext_lazy("Overdue")),
]
ASSIGNED_CHOICES = [
    ("me", gettext_lazy("Assigned to me")),
    ("none", gettext_lazy("Unassigned")),
]


def _scoped_bodies(request):
    return staff_bodies(request.user if request else None, CASEWORK_ROLES)


def offered_categories(user, roles=CASEWORK_ROLES):
    """The shared categories and those of the bodies of the user's kommuner;
    never another kommun's own."""
    return Category.objects.filter(staff_category_choices(user, roles)).order_by("name")


def _scoped_categories(request):
    return offered_categories(request.user if request else None)


# Reports one case-system reference may name (handovers give a report more
# than one case; one reference naming more reports is another system's reuse).
MAX_REFERENCED = 100


class InboxFilterSet(WagtailFilterSet):
    q = django_filters.CharFilter(
        label=gettext_lazy("Search"),
        method="search",
        help_text=gettext_lazy(
            "Title, description, street or address, report number or the case "
            "system's reference."
        ),
    )
    status = django_filters.MultipleChoiceFilter(
        label=gettext_lazy("Status"),
        choices=STAFF_STATUS_CHOICES,
        widget=forms.CheckboxSelectMultiple,
    )
    category = django_filters.ModelMultipleChoiceFilter(
        label=gettext_lazy("Category"),
        queryset=_scoped_categories,
    )
    body = django_filters.ModelChoiceFilter(
        label=gettext_lazy("Body"), queryset=_scoped_bodies
    )
    assigned = django_filters.ChoiceFilter(
        label=gettext_lazy("Assigned"),
        choices=ASSIGNED_CHOICES,
        method="filter_assigned",
        empty_label=gettext_lazy("Anyone"),
    )
    priority = django_filters.MultipleChoiceFilter(
        label=gettext_lazy("Priority"),
        choices=ReportPriority.choices,
        widget=forms.CheckboxSelectMultiple,
    )
    age = django_filters.ChoiceFilter(
        label=gettext_lazy("Age"),
        choices=AGE_CHOICES,
        method="filter_age",
        empty_label=gettext_lazy("Any age"),
    )
    due = django_filters.ChoiceFilter(
        label=gettext_lazy("Service promise"),
        choices=DUE_CHOICES,
        method="filter_due",
        empty_label=gettext_lazy("Any due date"),
        help_text=gettext_lazy(
            "Due soon: due before the end of the next working day of the "
            "report's kommun. Overdue: the promised time has passed."
        ),
    )
    district = DistrictFilter(label=gettext_lazy("District"))
    area = AreaFilter(
        label=gettext_lazy("Area"),
        help_text=gettext_lazy(
            "Set from the map: west,south,east,north in degrees, or a GeoJSON polygon."
        ),
    )

    class Meta:
        model = Report
        fields = [
            "q",
            "status",
            "category",
            "body",
            "assigned",
            "priority",
            "age",
            "due",
            "district",
            "area",
        ]

    def search(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        # A case system's reference, matched whole on its index (reports.search)
        # and read out first: a handful of reports named by value.
        references = Delivery.objects.filter(
            kind=DeliveryKind.CASE, external_id__in=reference_variants(value)
        ).values_list("report_id", flat=True)
        by_reference = Q(pk__in=list(references[:MAX_REFERENCED]))
        number = value.removeprefix("#")
        if number.isdigit() and len(number) < 19:
            # A number is a report's number or a case system's reference: the
            # texts are not read (a caller quotes the number they were given).
            return queryset.filter(Q(pk=int(number)) | by_reference)
        return queryset.filter(text_q(value) | by_reference)

    def filter_assigned(self, queryset, name, value):
        if value == "me":
            return queryset.filter(assigned_to=self.request.user)
        if value == "none":
            return queryset.filter(assigned_to__isnull=True)
        return queryset

    def filter_due(self, queryset, name, value):
        # workspace.due: on the report_due index (kommun, due_at).
        return queryset.filter(due_q(value))

    def filter_age(self, queryset, name, value):
        return queryset.filter(
            created_at__lt=timezone.now() - timedelta(days=int(value))
        )


class InboxIndexView(
    InboxToolsMixin, InboxMapMixin, IdsFirstPaginationMixin, ScopedIndexView
):
    page_title = gettext_lazy("Inbox")
    default_ordering = "-created_at"
    table_class = PlainTable

    @cached_property
    def header_buttons(self):
        # Filing for a caller: workspace.on_behalf.
        if not staff_filing_municipalities(self.request.user).exists():
            return super().header_buttons
        return [
            *super().header_buttons,
            HeaderButton(
                _("New report for a caller"),
                url=reverse("workspace_report_on_behalf"),
                icon_name="plus",
            ),
        ]

    @cached_property
    def columns(self):
        # No reporter's name, e-mail or phone here: the detail page shows them,
        # and only with the reporter's consent.
        return [
            PlainTitleColumn(
                "title",
                label=_("Report"),
                accessor=lambda r: f"#{r.pk} {r.title}",
                get_url=self.get_inspect_url,
                sort_key="pk",
            ),
            PlainColumn("category", label=_("Category"), sort_key="category__name"),
            PlainColumn("municipality", label=_("Municipality")),
            PlainColumn("body", label=_("Body"), sort_key="body__name"),
            PlainColumn(
                "status",
                label=_("Status"),
                accessor=lambda r: choice_label(ReportStatus, r.status),
                sort_key="status",
            ),
            PlainColumn(
                "priority",
                label=_("Priority"),
                accessor=lambda r: choice_label(ReportPriority, r.priority),
                sort_key="priority_rank",
            ),
            PlainColumn(
                "assigned_to",
                label=_("Assigned to"),
                accessor=lambda r: person(r.assigned_to) if r.assigned_to else "–",
            ),
            PlainColumn(
                "delivery",
                label=_("Delivery"),
                accessor=delivery_summary,
            ),
            DueColumn("due_at", label=_("Due"), sort_key="due_at"),
            MomentColumn("created_at", label=_("Reported"), sort_key="created_at"),
        ]

    def order_queryset(self, queryset):
        # By priority: the newest first among equals (the report_priority index).
        if self.ordering == "priority_rank":
            return queryset.order_by("priority_rank", "-created_at", "-pk")
        if self.ordering == "-priority_rank":
            return queryset.order_by("-priority_rank", "created_at", "pk")
        # By due date: reports without one (closed, or no promise) last on
        # every database.
        if self.ordering == "due_at":
            return queryset.order_by(F("due_at").asc(nulls_last=True), "pk")
        if self.ordering == "-due_at":
            return queryset.order_by(F("due_at").desc(nulls_last=True), "-pk")
        return super().order_queryset(queryset)


def person(user) -> str:
    return user.get_full_name() or user.username


def delivery_summary(report) -> str:
    state = getattr(report, "delivery_state", None)
    if not state:
        return "–"
    label = choice_label(DeliveryState, state)
    reference = getattr(report, "delivery_reference", "")
    return f"{label} ({reference})" if reference else label


# --- a report's screen -------------------------------------------------------


class VersionedForm(forms.Form):
    """A form that carries the report's version when it was shown
    (workspace.services.report_version)."""

    version = forms.IntegerField(required=False, widget=forms.HiddenInput)


class StatusForm(VersionedForm):
    status = forms.ChoiceField(
        label=gettext_lazy("Status"), choices=STAFF_STATUS_CHOICES
    )
    note = forms.CharField(
        label=gettext_lazy("Public reply"),
        required=False,
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=gettext_lazy(
            "Shown on the report's public page and e-mailed to its followers."
        ),
    )


class NoteForm(forms.Form):
    note = forms.CharField(
        label=gettext_lazy("Internal note"),
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=gettext_lazy(
            "Seen by staff only: never shown publicly or sent to the reporter."
        ),
    )


class PriorityForm(VersionedForm):
    priority = forms.ChoiceField(
        label=gettext_lazy("Priority"), choices=ReportPriority.choices
    )


class AssignForm(VersionedForm):
    assigned_to = forms.ModelChoiceField(
        label=gettext_lazy("Assigned to"),
        queryset=None,
        required=False,
        empty_label=gettext_lazy("No one"),
    )

    def __init__(self, *args, report: Report, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["assigned_to"].queryset = staff_case_handlers(
            municipality_id=report.municipality_id, body_id=report.body_id
        )
        self.fields["assigned_to"].label_from_instance = person


class ReassignForm(VersionedForm):
    """Hand the report over: another category, kommun or body. The body may be
    left to the kommun's routing of the category. The categories offered are
    the shared ones and those of the bodies of the user's kommuner."""

    category = forms.ModelChoiceField(
        label=gettext_lazy("Category"), queryset=Category.objects.none()
    )
    municipality = forms.ModelChoiceField(
        label=gettext_lazy("Municipality"),
        queryset=Municipality.objects.filter(participating=True).order_by("name"),
    )
    body = forms.ModelChoiceField(
        label=gettext_lazy("Body"),
        queryset=Body.objects.order_by("name"),
        required=False,
        empty_label=gettext_lazy("The one the kommun routes the category to"),
        help_text=gettext_lazy(
            "The report is sent to the new body, the case system it leaves is "
            "told, and its public page says where it went."
        ),
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["category"].queryset = offered_categories(user).filter(
            is_active=True
        )


# The forms of the report's screen, by the "action" their submit button sends;
# a post without one is a status change.
ACTIONS = ("status", "note", "priority", "assign", "reassign", *REVIEW_ACTIONS)


class InboxReportView(ReviewMixin, ScopedInspectView):
    """A report on one screen: where it is, what the reporter said and (with
    consent) how to reach them, its delivery, its whole timeline with internal
    events, and the forms that act on it through workspace.services."""

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
            "priority",
            "assigned_to",
            "created_at",
            "channel",
            "confirmed_at",
        ]

    # The report model's own verbose names are not all translated; the screen
    # says these.
    field_labels = {
        "category": gettext_lazy("Category"),
        "municipality": gettext_lazy("Municipality"),
        "body": gettext_lazy("Body"),
        "status": gettext_lazy("Status"),
        "priority": gettext_lazy("Priority"),
        "assigned_to": gettext_lazy("Assigned to"),
        "created_at": gettext_lazy("Reported"),
        "channel": gettext_lazy("Channel"),
        "confirmed_at": gettext_lazy("Confirmed"),
    }

    def get_field_label(self, field_name, field):
        return self.field_labels.get(field_name) or super().get_field_label(
            field_name, field
        )

    def get_scope(self):
        return (
            super()
            .get_scope()
            .select_related("category", "municipality", "body", "assigned_to")
        )

    def get_page_subtitle(self):
        return f"#{self.object.pk} {self.object.title}"

    def _may(self, scope) -> bool:
        """The services check this themselves; here it decides which forms to
        offer."""
        return Report.objects.filter(scope, pk=self.object.pk).exists()

    @cached_property
    def can_change_status(self) -> bool:
        return self._may(staff_status_scope(self.request.user))

    @cached_property
    def can_work(self) -> bool:
        return self._may(staff_work_scope(self.request.user))

    @cached_property
    def version(self) -> int:
        return report_version(self.object.pk)

    def response_templates(self):
        report = self.object
        return (
            ResponseTemplate.objects.filter(municipality_id=report.municipality_id)
            .filter(Q(category__isnull=True) | Q(category_id=report.category_id))
            .select_related("category")
        )

    def initial_status_form(self) -> StatusForm:
        initial = {"status": self.object.status, "version": self.version}
        chosen = self.request.GET.get("template", "")
        if chosen.isdigit() and len(chosen) < 19:
            template = self.response_templates().filter(pk=int(chosen)).first()
            if template is not None:
                status = template.status or self.object.status
                initial.update(
                    status=status,
                    note=template.render(report=self.object, status=status),
                )
        return StatusForm(initial=initial)

    def get_context_data(self, forms_bound=None, **kwargs):
        context = super().get_context_data(**kwargs)
        report = self.object
        bound = forms_bound or {}
        version = self.version
        context.update(
            report=report,
            events=report.events.select_related("actor_user", "connection"),
            photos=report.photos.all(),
            deliveries=report.deliveries.select_related(
                "connection__body", "event"
            ).prefetch_related("attempt_log"),
            show_contact=report.share_contact,
            can_change_status=self.can_change_status,
            can_work=self.can_work,
            form=bound.get("status") or self.initial_status_form(),
            note_form=bound.get("note") or NoteForm(prefix="note"),
            priority_form=bound.get("priority")
            or PriorityForm(
                prefix="priority",
                initial={"priority": report.priority, "version": version},
            ),
            assign_form=bound.get("assign")
            or AssignForm(
                prefix="assign",
                report=report,
                initial={"assigned_to": report.assigned_to_id, "version": version},
            ),
            reassign_form=bound.get("reassign")
            or ReassignForm(
                prefix="reassign",
                user=self.request.user,
                initial={
                    "category": report.category_id,
                    "municipality": report.municipality_id,
                    "version": version,
                },
            ),
            tells_case_system=report.deliveries.filter(
                kind=DeliveryKind.CASE,
                connection__body_id=report.body_id,
                connection__kind__in=UPDATED_CONNECTION_KINDS,
            ).exists(),
            response_templates=(
                self.response_templates() if self.can_change_status else []
            ),
        )
        context.update(self.review_context(bound))
        return context

    def post(self, request, *args, **kwargs):
        action = request.POST.get("action", "status")
        if action not in ACTIONS:
            action = "status"
        form = self.bound_form(action, request.POST)
        if form.is_valid():
            try:
                changed = self.perform(action, form.cleaned_data)
            except PermissionDenied as refusal:
                return self.refused(action, form, str(refusal))
            except StaleReport as stale:
                return self.stale(action, form, stale)
            except ValidationError as error:
                errors_to_form(form, error)
            else:
                if changed is None:
                    messages.warning(request, _("Nothing changed."))
                else:
                    messages.success(request, _("The report was updated."))
                if not self._may(staff_workspace_scope(request.user)):
                    # Handed over to a kommun the user has no part in.
                    return redirect("inbox:index")
                return redirect("inbox:inspect", self.object.pk)
        return self.render_to_response(
            self.get_context_data(forms_bound={action: form})
        )

    def bound_form(self, action: str, data) -> forms.Form:
        if action in REVIEW_ACTIONS:
            return self.review_form(action, data)
        if action == "note":
            return NoteForm(data, prefix="note")
        if action == "priority":
            return PriorityForm(data, prefix="priority")
        if action == "assign":
            return AssignForm(data, prefix="assign", report=self.object)
        if action == "reassign":
            return ReassignForm(data, prefix="reassign", user=self.request.user)
        return StatusForm(data)

    def perform(self, action: str, data: dict):
        user, report_id = self.request.user, self.object.pk
        version = data.get("version")
        if action in REVIEW_ACTIONS:
            return self.review_perform(action, data)
        if action == "note":
            return report_note_add(actor=user, report_id=report_id, note=data["note"])
        if action == "priority":
            return report_priority_set(
                actor=user,
                report_id=report_id,
                priority=ReportPriority(data["priority"]),
                version=version,
            )
        if action == "assign":
            assignee = data["assigned_to"]
            return report_assign(
                actor=user,
                report_id=report_id,
                assignee_id=assignee.pk if assignee else None,
                version=version,
            )
        if action == "reassign":
            body = data["body"]
            return report_reassign(
                actor=user,
                report_id=report_id,
                category_id=data["category"].pk,
                municipality_id=data["municipality"].pk,
                body_id=body.pk if body else None,
                version=version,
            )
        return report_status_change(
            actor=user,
            report_id=report_id,
            status=ReportStatus(data["status"]),
            reply=data["note"],
            version=version,
        )

    def refused(self, action, form, reason: str):
        """Seen but not the user's to change: say so; nothing was changed."""
        messages.error(self.request, reason)
        form.add_error(None, reason)
        response = self.render_to_response(
            self.get_context_data(forms_bound={action: form})
        )
        response.status_code = 403
        return response

    def stale(self, action, form, stale: StaleReport):
        """Tell what changed meanwhile; keep what was typed, with the version
        now shown, so that sending again is a deliberate choice."""
        data = form.data.copy()
        data[form.add_prefix("version")] = str(self.version)
        fresh = self.bound_form(action, data)
        fresh.is_valid()
        fresh.add_error(
            None,
            _(
                "Someone changed this report after you opened it, so nothing was "
                "saved. Check the changes below, then send again if you still "
                "mean it."
            ),
        )
        response = self.render_to_response(
            self.get_context_data(forms_bound={action: fresh}, meanwhile=stale.events)
        )
        response.status_code = 409
        return response


class InboxViewSet(ReadOnlyScopedViewSet):
    model = Report
    name = "inbox"
    icon = "tasks"
    menu_label = gettext_lazy("Inbox")
    menu_order = 200
    add_to_admin_menu = True
    index_view_class = InboxIndexView
    inspect_view_class = InboxReportView
    list_select_related = ("category", "municipality", "body", "assigned_to")
    filterset_class = InboxFilterSet
    list_per_page = 50

    def get_extra_urlpatterns(self):
        # The action bar and saved filters (workspace.inbox_tools).
        return [*super().get_extra_urlpatterns(), *inbox_tools_urlpatterns()]


# --- response templates ----------------------------------------------------------


def kommun_templates(user, roles) -> QuerySet[ResponseTemplate]:
    return ResponseTemplate.objects.filter(
        municipality__in=staff_municipalities(user, roles)
    )


template_policy = setup_policy(ResponseTemplate, kommun_templates)


class ResponseTemplateForm(WagtailAdminModelForm):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        user = self.for_user
        if user is not None and not user.is_superuser:
            self.fields["municipality"].queryset = staff_municipalities(
                user, SETUP_ROLES
            )
        self.fields["category"].queryset = offered_categories(user, SETUP_ROLES)
        self.fields["text"].help_text = _(
            "The public reply. Placeholders: %(placeholders)s."
        ) % {
            "placeholders": ", ".join(
                f"{{{name}}} ({label})" for name, label in PLACEHOLDERS.items()
            )
        }


class ResponseTemplateIndexView(ScopedIndexView):
    @cached_property
    def columns(self):
        title_column = self._get_title_column_class(TitleColumn)
        return [
            title_column(
                "name", label=_("Name"), get_url=self.get_edit_url, sort_key="name"
            ),
            Column("municipality", label=_("Municipality")),
            Column("category", label=_("Category")),
            Column("status", label=_("Status"), accessor="get_status_display"),
        ]


class ResponseTemplateViewSet(ScopedModelViewSet):
    model = ResponseTemplate
    name = "response_templates"
    icon = "doc-full"
    menu_label = gettext_lazy("Response templates")
    menu_order = 205
    add_to_admin_menu = True
    index_view_class = ResponseTemplateIndexView
    list_select_related = ("municipality", "category")
    edit_handler = ObjectList(
        ResponseTemplate.panels, base_form_class=ResponseTemplateForm
    )
