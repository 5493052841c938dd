from django.db import models
from django.utils.translation import gettext_lazy as _


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
