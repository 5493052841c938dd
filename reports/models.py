from django.conf import settings
from django.db import models
from django.db.models.functions import Concat, Lower
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from .choices import (
    PUBLIC_STATUSES,
    ActorKind,
    AlertKind,
    EventKind,
    QuestionnaireAnswer,
    ReportChannel,
    ReportPriority,
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
    title = models.CharField(pgettext_lazy("report field", "title"), max_length=120)
    description = models.TextField(_("description"), max_length=4000)
    extra = models.JSONField(_("answers to the category's questions"), default=dict)
    # The place's nearest address (looked up after the report is saved) or the
    # address a caller gave the contact centre: what staff search for.
    address = models.CharField(_("address"), max_length=255, blank=True, default="")
    # Title, description and address lower-cased, for staff search; kept by the
    # database on every write, and indexed as each database searches fastest
    # (reports.search).
    search_text = models.GeneratedField(
        expression=Lower(
            Concat(
                "title",
                models.Value("\n"),
                "description",
                models.Value("\n"),
                "address",
                output_field=models.TextField(),
            )
        ),
        output_field=models.TextField(),
        db_persist=True,
    )

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
    # The operational message (driftmeddelande) that made it a known problem
    # when it was made (municipalities.notices.known_message_for).
    known_message = models.ForeignKey(
        "municipalities.OperationalMessage",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("known problem"),
    )
    # The staff workspace's: never shown publicly.
    priority = models.CharField(
        _("priority"),
        max_length=10,
        choices=ReportPriority.choices,
        default=ReportPriority.NORMAL,
    )
    # The inbox's sort by priority, most urgent (0) first, read from the
    # ``report_priority`` index: kept by the database on every write.
    priority_rank = models.GeneratedField(
        expression=models.Case(
            models.When(priority=ReportPriority.URGENT, then=models.Value(0)),
            models.When(priority=ReportPriority.HIGH, then=models.Value(1)),
            models.When(priority=ReportPriority.NORMAL, then=models.Value(2)),
            default=models.Value(3),
        ),
        output_field=models.PositiveSmallIntegerField(),
        db_persist=True,
    )
    assigned_to = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="assigned_reports",
        verbose_name=_("assigned to"),
    )
    filed_on_site = models.ForeignKey(
        "wagtailcore.Site", null=True, blank=True, on_delete=models.SET_NULL
    )
    language = models.CharField(max_length=10, default="sv")
    channel = models.CharField(
        _("channel"),
        max_length=10,
        choices=ReportChannel.choices,
        default=ReportChannel.WEB,
        help_text=_("How the report reached us: the web form, by phone or a visit."),
    )
    created_at = models.DateTimeField(auto_now_add=True)
    confirmed_at = models.DateTimeField(null=True, blank=True)
    # When the current status came about, as its source said.
    status_changed_at = models.DateTimeField(null=True, blank=True)
    # The time of the newest accepted word on the status (a signal or a member of
    # staff), whether or not it changed it: anything said to have happened
    # before is kept in the timeline but does not change the status.
    status_as_of = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)
    # The report's milestones and service promise, kept by reports.milestones
    # from its events after each one (never written anywhere else): what the
    # inbox's "due" filters and the statistics read.
    received_on = models.DateField(null=True, blank=True)  # Stockholm date
    received_month = models.DateField(null=True, blank=True)  # its 1st
    first_response_at = models.DateTimeField(null=True, blank=True)
    response_days = models.PositiveSmallIntegerField(null=True, blank=True)
    fixed_at = models.DateTimeField(null=True, blank=True)
    fix_days = models.PositiveSmallIntegerField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    promise_response_days = models.PositiveSmallIntegerField(null=True, blank=True)
    promise_fix_days = models.PositiveSmallIntegerField(null=True, blank=True)
    response_due_at = models.DateTimeField(null=True, blank=True)
    fix_due_at = models.DateTimeField(null=True, blank=True)
    # The next promise still to keep: the response's until there is one, then
    # the fix's while the report is open; empty when closed or without promise.
    due_at = models.DateTimeField(null=True, blank=True)
    # E-mail to followers: at most one per report per batching window.
    notified_event_id = models.BigIntegerField(default=0)
    notified_at = models.DateTimeField(null=True, blank=True)
    notify_scheduled = models.BooleanField(default=False)
    # When the reporter is next asked "is it fixed?" (reports.questionnaire):
    # the kommun's interval after the report was confirmed, and again after an
    # answer that asked for it; empty when no questionnaire is due.
    questionnaire_due_at = models.DateTimeField(null=True, blank=True)

    objects = ReportQuerySet.as_manager()

    class Meta:
        verbose_name = _("report")
        verbose_name_plural = _("reports")
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["lat", "lon"], name="report_lat_lon"),
            models.Index(fields=["category", "status"], name="report_category_status"),
            # The staff inbox (workspace): a kommun's reports newest first (ties
            # by number), paged from either end, and their count, from the
            # index alone (bench/inbox.py).
            models.Index(
                fields=["municipality", "created_at", "id", "status"],
                name="report_inbox",
            ),
            # The inbox sorted by priority (most urgent, then newest, first; ties
            # by number) and paged from the index alone.
            models.Index(
                fields=[
                    "municipality",
                    "priority_rank",
                    "-created_at",
                    "-id",
                    "status",
                ],
                name="report_priority",
            ),
            # The inbox's map: a kommun's reports in a box, counted per grid
            # cell from the index alone; and the inbox's list of a drawn area
            # (workspace.areas), counted and sorted newest first from it.
            models.Index(
                fields=[
                    "municipality",
                    "lat",
                    "lon",
                    "status",
                    "category",
                    "id",
                    "created_at",
                ],
                name="report_inbox_map",
            ),
            # Overdue and due soon, per kommun (the inbox, its map, the daily
            # digest): counted, paged and clustered from the index alone.
            models.Index(
                fields=[
                    "municipality",
                    "due_at",
                    "status",
                    "lat",
                    "lon",
                    "category",
                    "id",
                ],
                name="report_due",
            ),
            # Statistics (stats.figures): a kommun's reports received in a
            # range of months, grouped in the index's order (no sort) by
            # month, category, body, channel and days to a first response,
            # and counted from the index alone (every column it reads).
            models.Index(
                fields=[
                    "municipality",
                    "received_month",
                    "category",
                    "body",
                    "channel",
                    "response_days",
                    "received_on",
                    "status",
                    "fix_days",
                    "promise_response_days",
                    "promise_fix_days",
                    "response_due_at",
                    "fix_due_at",
                ],
                name="report_stats",
            ),
            # The same groups by days to a fix, for the fixed reports.
            models.Index(
                fields=[
                    "municipality",
                    "received_month",
                    "category",
                    "body",
                    "channel",
                    "fix_days",
                    "received_on",
                    "status",
                ],
                name="report_stats_fix",
            ),
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
            models.Index(
                fields=["questionnaire_due_at"], name="report_questionnaire_due"
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.title}"

    def get_absolute_url(self) -> str:
        return reverse("report-detail", args=[self.pk])

    @property
    def public_name(self) -> str:
        return self.name if self.show_name else ""


class ReportPhoto(models.Model):
    report = models.ForeignKey(Report, on_delete=models.CASCADE, related_name="photos")
    # A photo of a citizen's update (reports.updates) rather than of the report.
    event = models.ForeignKey(
        "ReportEvent",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="photos",
    )
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
    # Who acted: the reporter, a member of staff (actor_user), a case system
    # (connection) or Knutpunkt itself.
    actor_kind = models.CharField(max_length=20, choices=ActorKind.choices)
    actor_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    # The case system the event came from or went to.
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
        constraints = [
            models.CheckConstraint(
                condition=models.Q(actor_kind__in=ActorKind.values),
                name="event_names_its_actor",
            ),
        ]

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


class Alert(models.Model):
    """Someone who gets new reports of an area (a point and a radius), a kommun
    or a category of a kommun by e-mail, at most one digest an hour
    (reports.alerts); and by SMS too once their phone number is verified."""

    kind = models.CharField(max_length=10, choices=AlertKind.choices)
    email = models.EmailField()
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE
    )
    # An area: its centre and radius.
    lat = models.FloatField(null=True, blank=True)
    lon = models.FloatField(null=True, blank=True)
    radius_m = models.PositiveIntegerField(null=True, blank=True)
    # A kommun, or a category of a kommun.
    municipality = models.ForeignKey(
        "municipalities.Municipality",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
    )
    category = models.ForeignKey(
        "municipalities.Category",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
    )
    # The site it was asked for on: its configured address is where the
    # alert's own links lead.
    site = models.ForeignKey(
        "wagtailcore.Site", null=True, blank=True, on_delete=models.SET_NULL
    )
    language = models.CharField(max_length=10, default="sv")
    created_at = models.DateTimeField(auto_now_add=True)
    confirmed_at = models.DateTimeField(null=True, blank=True)
    # Reports confirmed up to this moment have been told (or predate the alert).
    told_until = models.DateTimeField(null=True, blank=True)
    # The last digest: the next one no sooner than an hour after it.
    digest_at = models.DateTimeField(null=True, blank=True)
    # SMS: a number, its code (hashed) while it is being verified, and when
    # it was verified; only a verified number is sent alerts.
    phone = models.CharField(max_length=20, blank=True)
    phone_code_hash = models.CharField(max_length=64, blank=True)
    phone_code_expires_at = models.DateTimeField(null=True, blank=True)
    phone_code_tries = models.PositiveSmallIntegerField(default=0)
    phone_verified_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["confirmed_at", "digest_at"], name="alert_due")]

    def __str__(self) -> str:
        return f"Alert #{self.pk} ({self.kind})"


class EmailToken(models.Model):
    """A single-use, expiring link sent by e-mail; only its hash is stored."""

    purpose = models.CharField(max_length=30, choices=TokenPurpose.choices)
    token_hash = models.CharField(max_length=64, unique=True)
    # What the link is for: a report (and a subscription to it), or an alert.
    report = models.ForeignKey(
        Report, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    subscription = models.ForeignKey(
        Subscription, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    alert = models.ForeignKey(
        Alert, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.get_purpose_display()} for #{self.report_id}"


class MyReportsLink(models.Model):
    """A link sent by e-mail that proves an address: single-use and short-lived.

    The link carries only a random token; its hash is stored here with the
    address it proves, so the address never travels in the link. ``purpose``
    says what it opens: Mina sidor, or (``citizens``) signing up, signing in,
    or one's data to download or erase; a link opens nothing else.
    """

    token_hash = models.CharField(max_length=64, unique=True)
    purpose = models.CharField(max_length=20, default="my_reports")
    email = models.EmailField()
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["expires_at"], name="myreportslink_expires")]

    def __str__(self) -> str:
        return f"Mina sidor link #{self.pk}"


class Questionnaire(models.Model):
    """One "is it fixed?" questionnaire e-mailed to a reporter
    (reports.questionnaire): claimed by one scheduler, sent once with a
    single-use link (an ``EmailToken`` of purpose "questionnaire" whose hash is
    kept here too, so that the link is recognised after its report is gone),
    and answered once."""

    report = models.ForeignKey(
        Report,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="questionnaires",
    )
    municipality = models.ForeignKey(
        "municipalities.Municipality", on_delete=models.CASCADE, related_name="+"
    )
    token_hash = models.CharField(max_length=64, unique=True, null=True, blank=True)
    claimed_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    answered_at = models.DateTimeField(null=True, blank=True)
    answer = models.CharField(
        max_length=3, choices=QuestionnaireAnswer.choices, blank=True
    )
    ask_again = models.BooleanField(default=False)
    # The answer reopened the report (a "no" on a fixed or closed report).
    reopened = models.BooleanField(default=False)

    class Meta:
        indexes = [
            models.Index(
                fields=["municipality", "answered_at"], name="questionnaire_answered"
            )
        ]

    def __str__(self) -> str:
        return f"Questionnaire #{self.pk} of report #{self.report_id}"
