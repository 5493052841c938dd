import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from .choices import (
    PUBLIC_STATUSES,
    DeliveryState,
    EventKind,
    ReportStatus,
    TokenPurpose,
)

# Latitude bands per degree of LatBand: 1/256° is about 434 m.
LAT_BANDS_PER_DEGREE = 256


class LatBand(models.Func):
    """The band of 1/256° of latitude a latitude lies in, from 0 at the South Pole.

    It leads the map index on an expression rather than a column, so no writer of
    reports has to keep it, and queries use the index by filtering on this same
    expression. Its constants are in the SQL, not parameters, so that SQLite
    recognises the indexed expression in queries. reports.map.lat_band_for is the
    same in Python.
    """

    template = f"CAST(FLOOR((%(expressions)s + 90) * {LAT_BANDS_PER_DEGREE}) AS BIGINT)"
    output_field = models.BigIntegerField()

    def as_sqlite(self, compiler, connection, **extra_context):
        # CAST truncates, which is floor for non-negative numbers, and SQLite's
        # FLOOR is an optional extension.
        return self.as_sql(
            compiler,
            connection,
            template=(
                f"CAST((%(expressions)s + 90) * {LAT_BANDS_PER_DEGREE} AS INTEGER)"
            ),
            **extra_context,
        )


class ReportQuerySet(models.QuerySet):
    def public(self):
        """Reports anyone may see: confirmed and not hidden by moderation."""
        return self.filter(status__in=PUBLIC_STATUSES, is_hidden=False)

    def visible_to(self, user):
        """What a visitor may see: public reports, and a signed-in reporter's own."""
        public = models.Q(status__in=PUBLIC_STATUSES, is_hidden=False)
        if user is not None and user.is_authenticated:
            return self.filter(public | models.Q(reporter=user))
        return self.filter(public)


class Report(models.Model):
    """A citizen's report of a fault at a point."""

    lat = models.FloatField()
    lon = models.FloatField()
    municipality = models.ForeignKey(
        "municipalities.Municipality", on_delete=models.PROTECT, related_name="reports"
    )
    category = models.ForeignKey(
        "municipalities.Category", on_delete=models.PROTECT, related_name="reports"
    )
    body = models.ForeignKey(
        "municipalities.Body", on_delete=models.PROTECT, related_name="reports"
    )
    title = models.CharField(_("title"), max_length=120)
    description = models.TextField(_("description"), max_length=4000)
    extra = models.JSONField(_("answers to the category's questions"), default=dict)

    # The reporter: personal data, public only by the reporter's choice.
    reporter = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="reports",
    )
    name = models.CharField(_("name"), max_length=100)
    email = models.EmailField(_("e-mail"))
    phone = models.CharField(_("phone"), max_length=30, blank=True)
    show_name = models.BooleanField(_("show my name publicly"), default=False)
    share_contact = models.BooleanField(
        _("the responsible body may contact me"), default=False
    )

    status = models.CharField(
        max_length=20, choices=ReportStatus.choices, default=ReportStatus.UNCONFIRMED
    )
    is_hidden = models.BooleanField(default=False)
    filed_on_site = models.ForeignKey(
        "wagtailcore.Site", null=True, blank=True, on_delete=models.SET_NULL
    )
    language = models.CharField(max_length=10, default="sv")
    created_at = models.DateTimeField(auto_now_add=True)
    confirmed_at = models.DateTimeField(null=True, blank=True)
    # When the current status came about, as its source said: older signals
    # are kept in the timeline but do not change the status.
    status_changed_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)
    # E-mail to followers: at most one per report per batching window.
    notified_event_id = models.BigIntegerField(default=0)
    notified_at = models.DateTimeField(null=True, blank=True)
    notify_scheduled = models.BooleanField(default=False)

    objects = ReportQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["lat", "lon"], name="report_lat_lon"),
            models.Index(fields=["category", "status"], name="report_category_status"),
            # The public map (reports.map): a bounding box is one short range of
            # this index per latitude band, bounded by lon, and the index holds
            # every column the map filters, sorts and groups on, so that neither
            # the newest reports in view nor the clusters read the table. "id" is
            # for PostgreSQL, whose index entries lack it.
            models.Index(
                LatBand("lat"),
                "lon",
                "lat",
                "created_at",
                "status",
                "is_hidden",
                "category",
                "id",
                name="report_map",
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.title}"

    def get_absolute_url(self) -> str:
        from django.urls import reverse

        return reverse("report-detail", args=[self.pk])

    @property
    def public_name(self) -> str:
        return self.name if self.show_name else ""


class ReportPhoto(models.Model):
    report = models.ForeignKey(Report, on_delete=models.CASCADE, related_name="photos")
    image = models.ImageField(
        upload_to="reports/%Y/%m/", width_field="width", height_field="height"
    )
    thumbnail = models.ImageField(upload_to="reports/%Y/%m/thumbs/")
    width = models.PositiveIntegerField(default=0)
    height = models.PositiveIntegerField(default=0)
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["position"]

    def __str__(self) -> str:
        return f"Photo {self.position + 1} of report #{self.report_id}"


class ReportEvent(models.Model):
    """One entry of a report's timeline; append-only."""

    report = models.ForeignKey(Report, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=20, choices=EventKind.choices)
    status = models.CharField(max_length=20, choices=ReportStatus.choices, blank=True)
    note = models.TextField(blank=True)
    # Facts the timeline shows, such as {"body": …, "reference": …} when sent.
    data = models.JSONField(default=dict, blank=True)
    is_public = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    # When it happened, as its source said (case systems may tell late).
    happened_at = models.DateTimeField(null=True, blank=True)
    # Kept in the history, but older than the status it would have replaced.
    superseded = models.BooleanField(default=False)
    connection = models.ForeignKey(
        "municipalities.Connection",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    external_status_code = models.CharField(max_length=100, blank=True)

    class Meta:
        ordering = ["created_at", "pk"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} on #{self.report_id}"


class Subscription(models.Model):
    """Someone who follows a report's updates (the reporter, or a neighbour)."""

    report = models.ForeignKey(
        Report, on_delete=models.CASCADE, related_name="subscriptions"
    )
    email = models.EmailField()
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE
    )
    created_at = models.DateTimeField(auto_now_add=True)
    confirmed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["report", "email"], name="one_subscription_per_email"
            )
        ]

    def __str__(self) -> str:
        return f"Subscription to #{self.report_id}"


class EmailToken(models.Model):
    """A single-use, expiring link sent by e-mail; only its hash is stored."""

    purpose = models.CharField(max_length=30, choices=TokenPurpose.choices)
    token_hash = models.CharField(max_length=64, unique=True)
    report = models.ForeignKey(Report, on_delete=models.CASCADE, related_name="+")
    subscription = models.ForeignKey(
        Subscription, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.get_purpose_display()} for #{self.report_id}"


class Delivery(models.Model):
    """The outbox: one row per (report, connection), worked by reports.delivery.

    ``key`` goes with every attempt (Idempotency-Key, webhook-id, Message-ID), so
    that a retry after a crash cannot open a second case.
    """

    report = models.ForeignKey(
        Report, on_delete=models.CASCADE, related_name="deliveries"
    )
    connection = models.ForeignKey(
        "municipalities.Connection", on_delete=models.PROTECT, related_name="deliveries"
    )
    key = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    state = models.CharField(
        max_length=20, choices=DeliveryState.choices, default=DeliveryState.PENDING
    )
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField()
    queued_at = models.DateTimeField(
        help_text="Start of the window after which the outbox gives up."
    )
    lease_token = models.UUIDField(null=True, blank=True)
    lease_until = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    external_id = models.CharField(max_length=200, blank=True)
    external_token = models.CharField(max_length=200, blank=True)
    last_error = models.TextField(blank=True)
    last_http_status = models.PositiveSmallIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["report", "connection"], name="one_delivery_per_connection"
            )
        ]
        indexes = [
            models.Index(fields=["state", "next_attempt_at"], name="delivery_due"),
            models.Index(
                fields=["connection", "state"], name="delivery_connection_state"
            ),
        ]
        verbose_name = _("delivery")
        verbose_name_plural = _("deliveries")

    def __str__(self) -> str:
        return f"Report #{self.report_id} → {self.connection_id} ({self.state})"


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
