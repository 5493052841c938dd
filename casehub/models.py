"""The case hub's records: the outbox of deliveries to case systems, each
delivery's attempts, and the receipts of status signals already taken."""

import uuid

from django.db import models
from django.utils.translation import gettext_lazy as _

from reports.models import Report, ReportEvent

from .choices import DeliveryKind, DeliveryState


class Delivery(models.Model):
    """The outbox, worked by casehub.outbox: one case per (report, connection),
    and one update per (event, connection) telling the case system of a change
    staff made in Knutpunkt (``kind``).

    ``key`` goes with every attempt (Idempotency-Key, webhook-id, Message-ID), so
    that a retry after a crash cannot open a second case or repeat an update.
    """

    report = models.ForeignKey(
        Report,
        on_delete=models.CASCADE,
        related_name="deliveries",
        verbose_name=_("report"),
    )
    connection = models.ForeignKey(
        "municipalities.Connection",
        on_delete=models.PROTECT,
        related_name="deliveries",
        verbose_name=_("connection"),
    )
    kind = models.CharField(
        _("kind"),
        max_length=10,
        choices=DeliveryKind.choices,
        default=DeliveryKind.CASE,
    )
    event = models.ForeignKey(
        ReportEvent,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="deliveries",
        verbose_name=_("event"),
        help_text=_("The change an update tells of."),
    )
    key = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    state = models.CharField(
        _("state"),
        max_length=20,
        choices=DeliveryState.choices,
        default=DeliveryState.PENDING,
    )
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(_("next attempt"))
    queued_at = models.DateTimeField(
        _("queued"),
        help_text=_("Start of the window after which the outbox gives up."),
    )
    lease_token = models.UUIDField(null=True, blank=True)
    lease_until = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(_("delivered"), null=True, blank=True)
    external_id = models.CharField(_("external reference"), max_length=200, blank=True)
    external_token = models.CharField(max_length=200, blank=True)
    last_error = models.TextField(_("last error"), blank=True)
    last_http_status = models.PositiveSmallIntegerField(
        _("last HTTP status"), null=True, blank=True
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["report", "connection"],
                condition=models.Q(kind="case"),
                name="one_delivery_per_connection",
            ),
            models.UniqueConstraint(
                fields=["event", "connection"],
                condition=models.Q(kind="update"),
                name="one_update_per_event_and_connection",
            ),
            models.CheckConstraint(
                condition=models.Q(kind="case", event__isnull=True)
                | models.Q(kind="update", event__isnull=False),
                name="an_update_has_its_event",
            ),
        ]
        indexes = [
            models.Index(fields=["state", "next_attempt_at"], name="delivery_due"),
            models.Index(
                fields=["connection", "state"], name="delivery_connection_state"
            ),
            # Staff search by a case system's reference (reports.search).
            models.Index(fields=["external_id"], name="delivery_reference"),
        ]
        verbose_name = _("delivery")
        verbose_name_plural = _("deliveries")

    def __str__(self) -> str:
        if self.kind == DeliveryKind.UPDATE:
            return _("Update of report #%(report)s to %(connection)s") % {
                "report": self.report_id,
                "connection": self.connection,
            }
        return _("Report #%(report)s to %(connection)s") % {
            "report": self.report_id,
            "connection": self.connection,
        }


class DeliveryAttempt(models.Model):
    """One try of a delivery, kept for staff reading what went wrong."""

    delivery = models.ForeignKey(
        Delivery, on_delete=models.CASCADE, related_name="attempt_log"
    )
    started_at = models.DateTimeField()
    duration_ms = models.PositiveIntegerField(default=0)
    succeeded = models.BooleanField(default=False)
    http_status = models.PositiveSmallIntegerField(null=True, blank=True)
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["-started_at"]

    def __str__(self) -> str:
        return f"Attempt on delivery {self.delivery_id}"


class SignalReceipt(models.Model):
    """A status signal already taken from a connection (webhook-id or Open311
    update_id): a repeat is answered as success and changes nothing."""

    connection = models.ForeignKey(
        "municipalities.Connection", on_delete=models.CASCADE, related_name="+"
    )
    message_id = models.CharField(max_length=200)
    report = models.ForeignKey(Report, on_delete=models.CASCADE, related_name="+")
    event = models.ForeignKey(
        ReportEvent, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    received_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["connection", "message_id"], name="one_receipt_per_message"
            )
        ]

    def __str__(self) -> str:
        return f"{self.message_id} from connection {self.connection_id}"
