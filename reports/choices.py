from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class ReportStatus(models.TextChoices):
    """A report's state; mapped to Open311 and mySociety's statuses in one place."""

    UNCONFIRMED = "unconfirmed", _("Unconfirmed")
    OPEN = "open", _("Open")
    INVESTIGATING = "investigating", _("Investigating")
    IN_PROGRESS = "in_progress", pgettext_lazy("report status", "In progress")
    ACTION_SCHEDULED = "action_scheduled", _("Action scheduled")
    FIXED = "fixed", _("Fixed")
    CLOSED = "closed", _("Closed")
    DUPLICATE = "duplicate", _("Duplicate")
    NOT_RESPONSIBLE = "not_responsible", _("Not our responsibility")
    UNABLE_TO_FIX = "unable_to_fix", _("Unable to fix")
    NO_FURTHER_ACTION = "no_further_action", _("No further action")


OPEN_STATUSES = frozenset(
    {
        ReportStatus.OPEN,
        ReportStatus.INVESTIGATING,
        ReportStatus.IN_PROGRESS,
        ReportStatus.ACTION_SCHEDULED,
    }
)
CLOSED_STATUSES = frozenset(
    {
        ReportStatus.FIXED,
        ReportStatus.CLOSED,
        ReportStatus.DUPLICATE,
        ReportStatus.NOT_RESPONSIBLE,
        ReportStatus.UNABLE_TO_FIX,
        ReportStatus.NO_FURTHER_ACTION,
    }
)
# Statuses the public sees: everything but an unconfirmed report.
PUBLIC_STATUSES = OPEN_STATUSES | CLOSED_STATUSES

# Open311 GeoReport v2 knows only open and closed.
OPEN311_STATUS = {
    s: ("open" if s in OPEN_STATUSES else "closed") for s in PUBLIC_STATUSES
}

# What case systems say, mapped to our statuses: our own values, GeoReport v2's
# open/closed, and mySociety's extended statuses (servicerequestupdates).
EXTERNAL_STATUS = {
    **{s.value: s for s in PUBLIC_STATUSES},
    "open": ReportStatus.OPEN,
    "closed": ReportStatus.CLOSED,
    "investigating": ReportStatus.INVESTIGATING,
    "in_progress": ReportStatus.IN_PROGRESS,
    "action_scheduled": ReportStatus.ACTION_SCHEDULED,
    "fixed": ReportStatus.FIXED,
    "duplicate": ReportStatus.DUPLICATE,
    "not_councils_responsibility": ReportStatus.NOT_RESPONSIBLE,
    "not_responsible": ReportStatus.NOT_RESPONSIBLE,
    "no_further_action": ReportStatus.NO_FURTHER_ACTION,
    "unable_to_fix": ReportStatus.UNABLE_TO_FIX,
    "internal_referral": ReportStatus.INVESTIGATING,
}


def status_from_external(value: str) -> ReportStatus | None:
    """Our status for a case system's (any case, spaces or dashes for "_")."""
    key = "_".join(str(value).strip().lower().replace("-", " ").split())
    return EXTERNAL_STATUS.get(key)


class ActorKind(models.TextChoices):
    """Who made an event happen."""

    REPORTER = "reporter", _("The reporter")
    STAFF = "staff", _("Staff")
    CONNECTION = "connection", _("A case system")
    SYSTEM = "system", _("Knutpunkt")
    # A signed-in citizen who follows the report (not its reporter).
    FOLLOWER = "follower", _("A follower")


class EventKind(models.TextChoices):
    CONFIRMED = "confirmed", _("Reported")
    STATUS = "status", _("Status changed")
    NOTE = "note", pgettext_lazy("report event", "Update")
    SENT = "sent", _("Sent to the responsible body")
    HANDOVER = "handover", _("Handed over")
    # Staff only, never public: the workspace's priority and assignment.
    PRIORITY = "priority", _("Priority changed")
    ASSIGNED = "assigned", _("Assigned")
    # Never public: the reporter's name and contact details were erased at
    # their request (citizens.services); the case systems told are its updates.
    ERASED = "erased", _("Personal data erased")
    # A citizen's own word on the report: its reporter's, or a follower's
    # (text and photos; reports.updates).
    UPDATE = "update", pgettext_lazy("report event", "Update from a citizen")


class ReportPriority(models.TextChoices):
    """How soon staff mean to act on a report; internal to the workspace."""

    LOW = "low", _("Low")
    NORMAL = "normal", _("Normal")
    HIGH = "high", _("High")
    URGENT = "urgent", _("Urgent")


class ReportChannel(models.TextChoices):
    """How a report reached Knutpunkt: the public form, or a member of staff
    filing it on behalf of someone who phoned or came by."""

    WEB = "web", _("Web form")
    PHONE = "phone", pgettext_lazy("report channel", "Phone")
    VISIT = "visit", pgettext_lazy("report channel", "Visit")


# The filing channels a contact-centre agent chooses between.
ON_BEHALF_CHANNELS = (ReportChannel.PHONE, ReportChannel.VISIT)


class TokenPurpose(models.TextChoices):
    CONFIRM_REPORT = "confirm_report", _("Confirm a report")
    CONFIRM_SUBSCRIPTION = "confirm_subscription", _("Confirm following a report")
    QUESTIONNAIRE = "questionnaire", _("Answer whether a report is fixed")
    CONFIRM_ALERT = "confirm_alert", _("Confirm an alert")


class QuestionnaireAnswer(models.TextChoices):
    """The reporter's answer to "is it fixed?" (reports.questionnaire)."""

    YES = "yes", pgettext_lazy("is it fixed", "Yes, it is fixed")
    NO = "no", pgettext_lazy("is it fixed", "No, it is not fixed")


# A "no" from the reporter reopens a report in these statuses; a report closed
# otherwise (a duplicate, not the body's, unable to fix) stays as decided.
REOPENABLE_STATUSES = frozenset({ReportStatus.FIXED, ReportStatus.CLOSED})


class AlertKind(models.TextChoices):
    """What an alert watches for new reports (updates to one report are a
    ``Subscription``)."""

    AREA = "area", _("An area: a point and a radius")
    KOMMUN = "kommun", _("A whole kommun")
    CATEGORY = "category", _("A category in a kommun")
