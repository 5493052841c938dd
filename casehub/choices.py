from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class DeliveryState(models.TextChoices):
    """Where a report's delivery to one case-system connection stands."""

    PENDING = "pending", _("Waiting")
    SENDING = "sending", _("Sending")
    FAILED = "failed", _("Failed, will retry")
    DELIVERED = "delivered", _("Delivered")
    DEAD = "dead", _("Given up")
    # Not sent: the report was handed over to another body first.
    WITHDRAWN = "withdrawn", _("Withdrawn, handed over")


class DeliveryKind(models.TextChoices):
    """What a delivery carries: the report as a new case, or a later change of
    it (a status, a public reply, a handover) made in Knutpunkt by staff."""

    CASE = "case", _("New case")
    UPDATE = "update", pgettext_lazy("delivery kind", "Update")


# States the outbox still works on (DELIVERED too while an Open311 token awaits
# its service_request_id).
DELIVERY_DUE_STATES = (DeliveryState.PENDING, DeliveryState.FAILED)
