"""Bulk actions of the inbox: change the status of, or assign, many reports at
once. Each report goes through the same service as on its own screen
(workspace.services), in its own transaction: permission is checked and the
action recorded (event, audit log) per report, and a report that is refused
changes nothing while the others go ahead.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django import forms
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import QuerySet
from django.http import QueryDict
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views import View
from wagtail.admin import messages

from municipalities.choices import StaffRole
from municipalities.models import StaffMembership
from municipalities.staff import WORKING_ROLES, staff_municipalities
from reports.choices import ReportStatus

from .saved_filters import filter_query
from .services import StaleReport, report_assign, report_status_change

# At most this many reports in one go (a page of the inbox holds 50).
BULK_MAX = 200
UNASSIGN = "none"


@dataclass
class BulkOutcome:
    """Which reports changed, which were already so, and which were refused and
    why."""

    changed: list[int] = field(default_factory=list)
    unchanged: list[int] = field(default_factory=list)
    refused: list[tuple[int, str]] = field(default_factory=list)


def _each(report_ids, act) -> BulkOutcome:
    outcome = BulkOutcome()
    for report_id in dict.fromkeys(report_ids):
        try:
            event = act(report_id)
        except PermissionDenied as refusal:
            outcome.refused.append((report_id, str(refusal)))
        except StaleReport:
            outcome.refused.append(
                (report_id, _("It changed meanwhile; open it to see how."))
            )
        except ValidationError as error:
            outcome.refused.append((report_id, " ".join(error.messages)))
        else:
            (outcome.unchanged if event is None else outcome.changed).append(report_id)
    return outcome


def reports_bulk_status(
    *, actor, report_ids: list[int], status: ReportStatus, reply: str = ""
) -> BulkOutcome:
    """Change each report's status (with the same public reply) through
    workspace.services.report_status_change."""
    return _each(
        report_ids,
        lambda report_id: report_status_change(
            actor=actor, report_id=report_id, status=status, reply=reply
        ),
    )


def reports_bulk_assign(
    *, actor, report_ids: list[int], assignee_id: int | None
) -> BulkOutcome:
    """Assign each report (or unassign it) through
    workspace.services.report_assign: one who is no case handler of a report's
    body is refused for that report."""
    return _each(
        report_ids,
        lambda report_id: report_assign(
            actor=actor, report_id=report_id, assignee_id=assignee_id
        ),
    )


# --- the inbox's action bar ---------------------------------------------------------


def bulk_allowed(user) -> bool:
    """Whether the inbox offers the action bar: to those who work reports (each
    report is still checked by its service)."""
    return bool(user.is_superuser or staff_municipalities(user, WORKING_ROLES).exists())


def bulk_assignees(user) -> QuerySet:
    """The case handlers of the kommuner the user works in: whom the action bar
    offers (the service refuses one who does not handle a given report)."""
    members = StaffMembership.objects.filter(
        role=StaffRole.CASE_HANDLER,
        municipality__in=staff_municipalities(user, WORKING_ROLES),
    )
    return (
        get_user_model()
        .objects.filter(is_active=True, pk__in=members.values("user_id"))
        .order_by("first_name", "last_name", "username")
    )


STATUS_CHOICES = [
    (value, label)
    for value, label in ReportStatus.choices
    if value != ReportStatus.UNCONFIRMED
]


class ReportIdsField(forms.TypedMultipleChoiceField):
    """Report numbers, whichever: each report's service decides whether the user
    may act on it."""

    def valid_value(self, value):
        return str(value).isdigit() and len(str(value)) < 19


class BulkForm(forms.Form):
    reports = ReportIdsField(coerce=int)
    action = forms.ChoiceField(choices=[("status", "status"), ("assign", "assign")])
    status = forms.ChoiceField(
        label=gettext_lazy("New status"),
        choices=[("", gettext_lazy("Choose a status")), *STATUS_CHOICES],
        required=False,
    )
    reply = forms.CharField(
        label=gettext_lazy("Public reply (optional)"),
        required=False,
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    assignee = forms.ChoiceField(
        label=gettext_lazy("Assign to"), choices=[], required=False
    )

    def __init__(self, *args, user, **kwargs):
        # Apart from the inbox's filter form's ids on the same page.
        kwargs.setdefault("auto_id", "bulk-%s")
        super().__init__(*args, **kwargs)
        self.fields["assignee"].choices = [
            ("", _("Choose a person")),
            (UNASSIGN, _("No one (take the assignment away)")),
            *(
                (str(u.pk), u.get_full_name() or u.username)
                for u in bulk_assignees(user)
            ),
        ]
        self.fields["reports"].error_messages["required"] = _(
            "Choose one or more reports first."
        )

    def clean_reports(self):
        ids = self.cleaned_data["reports"]
        if len(ids) > BULK_MAX:
            raise ValidationError(
                _("At most %(max)d reports at once.") % {"max": BULK_MAX}
            )
        return ids

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("action") == "status" and not cleaned.get("status"):
            self.add_error("status", _("Choose the new status."))
        if cleaned.get("action") == "assign" and not cleaned.get("assignee"):
            self.add_error("assignee", _("Choose whom to assign the reports to."))
        return cleaned

    def assignee_id(self) -> int | None:
        chosen = self.cleaned_data["assignee"]
        return None if chosen == UNASSIGN else int(chosen)


class InboxBulkView(View):
    """POST only: the inbox's action bar. Back to the inbox (with its filters)
    with a message saying how many changed, and which were refused and why."""

    http_method_names = ["post"]

    def post(self, request):
        back = reverse("inbox:index")
        query = filter_query(QueryDict(request.POST.get("query", "")[:2000]))
        if query:
            back = f"{back}?{query}"
        if not bulk_allowed(request.user):
            raise PermissionDenied
        form = BulkForm(request.POST, user=request.user)
        if not form.is_valid():
            for errors in form.errors.values():
                for error in errors:
                    messages.error(request, error)
            return redirect(back)
        data = form.cleaned_data
        if data["action"] == "assign":
            outcome = reports_bulk_assign(
                actor=request.user,
                report_ids=data["reports"],
                assignee_id=form.assignee_id(),
            )
        else:
            outcome = reports_bulk_status(
                actor=request.user,
                report_ids=data["reports"],
                status=ReportStatus(data["status"]),
                reply=data["reply"],
            )
        self.tell(outcome)
        return redirect(back)

    def tell(self, outcome: BulkOutcome) -> None:
        request = self.request
        if outcome.changed:
            messages.success(
                request,
                ngettext(
                    "%(count)d report changed.",
                    "%(count)d reports changed.",
                    len(outcome.changed),
                )
                % {"count": len(outcome.changed)},
            )
        if outcome.unchanged:
            messages.warning(
                request,
                ngettext(
                    "%(count)d report was already so.",
                    "%(count)d reports were already so.",
                    len(outcome.unchanged),
                )
                % {"count": len(outcome.unchanged)},
            )
        if outcome.refused:
            messages.error(
                request,
                _("Not changed: %(reports)s")
                % {
                    "reports": "; ".join(
                        f"#{report_id}: {reason}"
                        for report_id, reason in outcome.refused
                    )
                },
            )
