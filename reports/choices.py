from django.db import models
from django.utils.translation import gettext_lazy as _


class ReportStatus(models.TextChoices):
    """A report's state; mapped to Open311 and mySociety's statuses in one place."""

    UNCONFIRMED = "unconfirmed", _("Unconfirmed")
    OPEN = "open", _("Open")
    INVESTIGATING = "investigating", _("Investigating")
    IN_PROGRESS = "in_progress", _("In progress")
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


class EventKind(models.TextChoices):
    CONFIRMED = "confirmed", _("Reported")
    STATUS = "status", _("Status changed")
    NOTE = "note", _("Update")
    SENT = "sent", _("Sent to the responsible body")


class DeliveryState(models.TextChoices):
    """Where a report's delivery to one case-system connection stands."""

    PENDING = "pending", _("Waiting")
    SENDING = "sending", _("Sending")
    FAILED = "failed", _("Failed, will retry")
    DELIVERED = "delivered", _("Delivered")
    DEAD = "dead", _("Given up")


# States the outbox still works on (DELIVERED too while an Open311 token awaits
# its service_request_id).
DELIVERY_DUE_STATES = (DeliveryState.PENDING, DeliveryState.FAILED)


class TokenPurpose(models.TextChoices):
    CONFIRM_REPORT = "confirm_report", _("Confirm a report")
    CONFIRM_SUBSCRIPTION = "confirm_subscription", _("Confirm following a report")
