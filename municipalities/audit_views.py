"""The audit log's screen: who did what, when, to what, before and after, for
kommun administrators (their own kommuner's entries) and superusers (all),
filterable and exportable as CSV or XLSX (Wagtail's ReportView). Read only: the
log is written by municipalities.audit alone.

Who reads which entries is said in municipalities.staff.staff_audit_scope.
"""

from __future__ import annotations

import django_filters
from django import forms
from django.apps import apps
from django.contrib.auth import get_user_model
from django.core.exceptions import FieldDoesNotExist, PermissionDenied
from django.db.models import QuerySet
from django.utils.functional import cached_property
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from wagtail.admin.filters import DateRangePickerWidget, WagtailFilterSet
from wagtail.admin.ui.tables import Column
from wagtail.admin.views.reports import ReportView

from infra.moments import moment_iso

from .audit import ACTION_LABELS, action_label, object_type_label
from .models import AuditEntry, Municipality
from .staff import staff_audit_scope, staff_is_kommun_admin
from .staff_admin import MomentColumn

# Values that are not fields of the model acted on.
EXTRA_LABELS = {
    "reply": gettext_lazy("public reply"),
    "note": gettext_lazy("internal note"),
}


def audit_readers(user) -> bool:
    """Who may open the audit log at all: superusers and kommun administrators."""
    return bool(
        user is not None
        and user.is_authenticated
        and user.is_active
        and (user.is_superuser or staff_is_kommun_admin(user))
    )


def audit_entries(user) -> QuerySet[AuditEntry]:
    return AuditEntry.objects.filter(staff_audit_scope(user)).select_related(
        "municipality"
    )


# --- readable values --------------------------------------------------------------


def _field(entry: AuditEntry, name: str):
    try:
        model = apps.get_model(entry.object_type)
        return model._meta.get_field(name)
    except (LookupError, ValueError, FieldDoesNotExist):
        return None


def _label(entry: AuditEntry, name: str) -> str:
    if name in EXTRA_LABELS:
        return capfirst(EXTRA_LABELS[name])
    field = _field(entry, name)
    return capfirst(getattr(field, "verbose_name", name) if field is not None else name)


def _shown(entry: AuditEntry, name: str, value) -> str:
    if value is None or value == "" or value == []:
        return "–"
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    if isinstance(value, list):
        return "; ".join(
            ", ".join(f"{k}={v}" for k, v in item.items())
            if isinstance(item, dict)
            else str(item)
            for item in value
        )
    field = _field(entry, name)
    choices = dict(getattr(field, "flatchoices", None) or ())
    if value in choices:
        return str(choices[value])
    return str(value)


def change_text(entry: AuditEntry) -> str:
    """The change as people read it: "status: Öppen → Åtgärdad; …"."""
    parts = []
    for name in dict.fromkeys([*entry.before, *entry.after]):
        label = _label(entry, name)
        if name in entry.before and name in entry.after:
            parts.append(
                f"{label}: {_shown(entry, name, entry.before[name])} → "
                f"{_shown(entry, name, entry.after[name])}"
            )
        elif name in entry.after:
            parts.append(f"{label}: {_shown(entry, name, entry.after[name])}")
        else:
            parts.append(f"{label}: {_shown(entry, name, entry.before[name])} → –")
    return "; ".join(parts)


def object_text(entry: AuditEntry) -> str:
    return f"{capfirst(object_type_label(entry.object_type))}: {entry.object_label}"


# --- the filters ------------------------------------------------------------------


class AuditFilterForm(forms.Form):
    def clean(self):
        cleaned = super().clean()
        at = cleaned.get("at")
        if at is not None and at.start and at.stop and at.start > at.stop:
            self.add_error(
                "at",
                _(
                    "The period ends before it begins: choose an end date on or "
                    "after the start date."
                ),
            )
        return cleaned


class AuditFilterSet(WagtailFilterSet):
    actor = django_filters.ModelChoiceFilter(
        label=gettext_lazy("Who"),
        queryset=get_user_model().objects.none(),
        empty_label=gettext_lazy("Anyone"),
    )
    action = django_filters.ChoiceFilter(
        label=gettext_lazy("Action"),
        choices=list(ACTION_LABELS.items()),
        empty_label=gettext_lazy("Any action"),
    )
    object_type = django_filters.ChoiceFilter(
        label=gettext_lazy("Object type"),
        choices=[],
        empty_label=gettext_lazy("Any type"),
    )
    at = django_filters.DateFromToRangeFilter(
        label=gettext_lazy("Date"), widget=DateRangePickerWidget
    )
    municipality = django_filters.ModelChoiceFilter(
        label=gettext_lazy("Kommun"),
        queryset=Municipality.objects.order_by("name"),
        empty_label=gettext_lazy("Every kommun"),
    )

    class Meta:
        model = AuditEntry
        fields = ["actor", "action", "object_type", "at", "municipality"]
        form = AuditFilterForm

    def __init__(self, *args, request=None, **kwargs):
        super().__init__(*args, request=request, **kwargs)
        user = request.user if request is not None else None
        entries = AuditEntry.objects.filter(staff_audit_scope(user))
        # Only those who appear in the user's own entries: no other kommun's
        # staff are named here.
        self.filters["actor"].queryset = (
            get_user_model()
            .objects.filter(pk__in=entries.values("actor_id"))
            .order_by("first_name", "last_name", "username")
        )
        self.filters["actor"].field.label_from_instance = lambda user: (
            user.get_full_name() or user.username
        )
        types = entries.order_by().values_list("object_type", flat=True).distinct()
        self.filters["object_type"].extra["choices"] = sorted(
            ((t, object_type_label(t)) for t in types), key=lambda c: c[1]
        )
        if user is None or not user.is_superuser:
            del self.filters["municipality"]


# --- the screen -------------------------------------------------------------------


class AuditLogView(ReportView):
    page_title = gettext_lazy("Audit log")
    verbose_name = gettext_lazy("audit entry")
    verbose_name_plural = gettext_lazy("audit entries")
    header_icon = "history"
    index_url_name = "audit_log"
    index_results_url_name = "audit_log_results"
    filterset_class = AuditFilterSet
    paginate_by = 50
    export_filename = "granskningslogg"
    list_export = ["at", "who", "action", "object", "change", "municipality"]
    export_headings = {
        "at": gettext_lazy("When"),
        "who": gettext_lazy("Who"),
        "action": gettext_lazy("Action"),
        "object": gettext_lazy("Object"),
        "change": gettext_lazy("Before → after"),
        "municipality": gettext_lazy("Kommun"),
    }

    def dispatch(self, request, *args, **kwargs):
        if not audit_readers(request.user):
            raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)

    def get_queryset(self):
        return audit_entries(self.request.user).order_by("-at", "-pk")

    def filter_queryset(self, queryset):
        filters = self.filters
        if filters is not None and filters.is_bound and not filters.is_valid():
            # A period that cannot hold anything shows (and exports) nothing,
            # with the reason at the field.
            return queryset.none()
        return super().filter_queryset(queryset)

    @cached_property
    def columns(self):
        return [
            MomentColumn("at", label=_("When")),
            Column("actor_name", label=_("Who")),
            Column(
                "action", label=_("Action"), accessor=lambda e: action_label(e.action)
            ),
            Column("object", label=_("Object"), accessor=object_text),
            Column("change", label=_("Before → after"), accessor=change_text),
            Column(
                "municipality",
                label=_("Kommun"),
                accessor=lambda e: e.municipality or "–",
            ),
        ]

    def to_row_dict(self, item: AuditEntry):
        return {
            "at": moment_iso(item.at),
            "who": item.actor_name,
            "action": action_label(item.action),
            "object": object_text(item),
            "change": change_text(item),
            "municipality": str(item.municipality or ""),
        }

    def get_filename(self):
        return self.export_filename


class AuditLogResultsView(AuditLogView):
    results_only = True
