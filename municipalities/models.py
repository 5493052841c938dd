from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from modelcluster.fields import ParentalKey
from modelcluster.models import ClusterableModel
from wagtail.admin.panels import FieldPanel, InlinePanel

from .choices import BodyKind, ConnectionKind, QuestionKind, StaffRole
from .districts import geometry_from_geojson
from .workdays import extra_days_parse

kommunkod_validator = RegexValidator(
    r"^\d{4}$", _("A kommunkod is four digits, leading zero kept.")
)
lanskod_validator = RegexValidator(r"^\d{2}$", _("A länskod is two digits."))
# Connections name the environment variable holding their secret; the prefix keeps
# staff from pointing one at any other secret of the process.
SECRET_ENV_PREFIX = "KNUTPUNKT_CONNECTION_SECRET_"  # noqa: S105 (a name prefix)
secret_env_validator = RegexValidator(
    rf"^{SECRET_ENV_PREFIX}[A-Z0-9_]+$",
    # Kept lazy (no % here): the message must not depend on the language active
    # when models are imported, or migrations would see a change.
    _(
        "The name of an environment variable starting with KNUTPUNKT_CONNECTION_SECRET_."
    ),
)


class County(models.Model):
    """A län, by SCB's two-digit code."""

    code = models.CharField(max_length=2, unique=True, validators=[lanskod_validator])
    name = models.CharField(max_length=100)

    class Meta:
        ordering = ["code"]
        verbose_name = _("county")
        verbose_name_plural = _("counties")

    def __str__(self) -> str:
        return self.name


class Municipality(models.Model):
    """A kommun: one tenant of the platform, with its own Wagtail site."""

    code = models.CharField(
        _("kommunkod"), max_length=4, unique=True, validators=[kommunkod_validator]
    )
    name = models.CharField(_("name"), max_length=100)
    slug = models.SlugField(max_length=100, unique=True)
    county = models.ForeignKey(County, on_delete=models.PROTECT, related_name="+")
    participating = models.BooleanField(
        _("participating"),
        default=False,
        help_text=_("Whether the kommun takes reports through Knutpunkt."),
    )
    site = models.OneToOneField(
        "wagtailcore.Site",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="municipality",
    )
    editors_group = models.OneToOneField(
        "auth.Group",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="edited_municipality",
    )
    # The kommun's images and documents: its editors upload, choose and see
    # only these (and the shared national collection's, read-only).
    collection = models.OneToOneField(
        "wagtailcore.Collection",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="municipality",
    )
    # Moderation before publishing on the kommun's site (cms.editorial): its
    # editors submit pages to its approvers (``approvers_group``) through its
    # own Wagtail workflow instead of publishing them.
    moderation = models.BooleanField(
        _("moderation before publishing"),
        default=False,
        help_text=_(
            "Editors submit pages for approval; the kommun's approvers and "
            "administrators publish them."
        ),
    )
    approvers_group = models.OneToOneField(
        "auth.Group",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="approved_municipality",
    )
    workflow = models.OneToOneField(
        "wagtailcore.Workflow",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="municipality",
    )
    # "Is it fixed?": the reporter is asked so many days after a report was
    # sent, and again as often while they ask for it (reports.questionnaire).
    questionnaire_days = models.PositiveSmallIntegerField(
        _("days until “is it fixed?”"),
        default=28,
        validators=[MinValueValidator(1), MaxValueValidator(365)],
        help_text=_(
            "The reporter is asked whether the problem is fixed this many days "
            "after the report was sent, and again as often if they ask for it."
        ),
    )

    class Meta:
        ordering = ["name"]
        verbose_name = _("municipality")
        verbose_name_plural = _("municipalities")

    def __str__(self) -> str:
        return self.name


class District(models.Model):
    """A part of a kommun (a stadsdel) its staff filter the inbox by: a name and
    a GeoJSON Polygon or MultiPolygon in WGS84, checked by
    municipalities.districts.geometry_from_geojson."""

    municipality = models.ForeignKey(
        Municipality,
        on_delete=models.CASCADE,
        related_name="districts",
        verbose_name=_("kommun"),
    )
    name = models.CharField(_("name"), max_length=100)
    geometry = models.JSONField(
        _("area"),
        help_text=_(
            "A GeoJSON Polygon or MultiPolygon, longitude before latitude (WGS84)."
        ),
    )

    class Meta:
        ordering = ["municipality__name", "name"]
        verbose_name = _("district")
        verbose_name_plural = _("districts")
        constraints = [
            models.UniqueConstraint(
                fields=["municipality", "name"], name="one_district_name_per_kommun"
            )
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self):
        try:
            geometry_from_geojson(self.geometry)
        except ValidationError as error:
            raise ValidationError({"geometry": error.messages}) from None


class StaffMembership(models.Model):
    """A staff user's role in one municipality; the root of every staff scope."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="memberships",
        verbose_name=_("user"),
    )
    municipality = models.ForeignKey(
        Municipality,
        on_delete=models.CASCADE,
        related_name="memberships",
        verbose_name=_("kommun"),
    )
    role = models.CharField(_("role"), max_length=20, choices=StaffRole.choices)
    # A case handler works the reports of these bodies (none: every body of the
    # kommun); see municipalities.staff.
    bodies = models.ManyToManyField(
        "Body",
        blank=True,
        related_name="staff_memberships",
        verbose_name=_("bodies"),
        help_text=_(
            "For case handlers: the bodies whose reports they work. None: every "
            "body of the kommun."
        ),
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["user", "municipality", "role"], name="unique_staff_role"
            )
        ]
        verbose_name = _("staff member")
        verbose_name_plural = _("staff")

    def __str__(self) -> str:
        return f"{self.user} – {self.municipality} ({self.get_role_display()})"


class BoundaryGeneration(models.Model):
    """One complete import of kommun boundaries; exactly one is active at a time."""

    source = models.CharField(max_length=255)
    created_at = models.DateTimeField(auto_now_add=True)
    activated_at = models.DateTimeField(null=True, blank=True)
    is_active = models.BooleanField(default=False)
    feature_count = models.PositiveIntegerField(default=0)
    vertex_count = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["is_active"],
                condition=Q(is_active=True),
                name="one_active_boundary_generation",
            )
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.source}"


class Boundary(models.Model):
    """A kommun's polygon in one generation, as WKB in WGS84 (lon/lat)."""

    generation = models.ForeignKey(
        BoundaryGeneration, on_delete=models.CASCADE, related_name="boundaries"
    )
    municipality = models.ForeignKey(
        Municipality, on_delete=models.CASCADE, related_name="boundaries"
    )
    wkb = models.BinaryField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["generation", "municipality"],
                name="one_boundary_per_generation",
            )
        ]

    def __str__(self) -> str:
        return f"{self.municipality} (generation {self.generation_id})"


class Body(models.Model):
    """An organisation responsible for reports: a kommun department, Trafikverket…"""

    name = models.CharField(_("name"), max_length=200)
    slug = models.SlugField(max_length=100, unique=True)
    kind = models.CharField(_("kind"), max_length=20, choices=BodyKind.choices)
    municipalities = models.ManyToManyField(
        Municipality,
        verbose_name=_("kommuner"),
        blank=True,
        related_name="bodies",
        help_text=_("The kommuner this body covers; empty with nationwide set."),
    )
    nationwide = models.BooleanField(_("covers the whole country"), default=False)

    class Meta:
        ordering = ["name"]
        verbose_name = pgettext_lazy("responsible organisation", "body")
        verbose_name_plural = _("bodies")

    def __str__(self) -> str:
        return self.name


class Category(ClusterableModel):
    """A kind of fault a citizen can report (FixaMinGata's list by default)."""

    name = models.CharField(_("name"), max_length=100)
    slug = models.SlugField(max_length=100, unique=True)
    sort_order = models.PositiveIntegerField(_("sort order"), default=0)
    is_active = models.BooleanField(_("active"), default=True)
    body = models.ForeignKey(
        "Body",
        verbose_name=pgettext_lazy("responsible organisation", "body"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="own_categories",
        help_text=_(
            "Set for a category that comes from one body's case system (its "
            "Open311 service list); empty for the shared list."
        ),
    )

    panels = [
        FieldPanel("name"),
        FieldPanel("slug"),
        FieldPanel("sort_order"),
        FieldPanel("is_active"),
        InlinePanel("questions", label=_("Extra questions")),
    ]

    class Meta:
        ordering = ["sort_order", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["name"],
                condition=Q(body__isnull=True),
                name="unique_shared_category_name",
            ),
            models.UniqueConstraint(
                fields=["body", "name"],
                condition=Q(body__isnull=False),
                name="unique_category_name_per_body",
            ),
        ]
        verbose_name = _("category")
        verbose_name_plural = _("categories")

    def __str__(self) -> str:
        return self.name

    def questions_for(self, municipality_id: int | None):
        """The extra questions asked for a report of this category in the
        kommun: those asked everywhere, then the kommun's own."""
        return self.questions.filter(
            Q(municipality__isnull=True) | Q(municipality_id=municipality_id)
        ).order_by(models.F("municipality").asc(nulls_first=True), "sort_order", "pk")


class Connection(ClusterableModel):
    """How one body's case system takes reports, and how well it is doing.

    The health fields are written by the outbox only (casehub.outbox).
    """

    body = models.ForeignKey(
        Body,
        on_delete=models.CASCADE,
        related_name="connections",
        verbose_name=pgettext_lazy("responsible organisation", "body"),
    )
    name = models.CharField(_("name"), max_length=200)
    kind = models.CharField(_("kind"), max_length=20, choices=ConnectionKind.choices)
    endpoint = models.URLField(
        _("endpoint URL"),
        blank=True,
        help_text=_(
            "Open311: the base URL that ends before requests.json. "
            "Webhook: the URL to POST to."
        ),
    )
    email = models.EmailField(
        _("e-mail address"), blank=True, help_text=_("For e-mail connections.")
    )
    jurisdiction_id = models.CharField(
        _("Open311 jurisdiction_id"), max_length=100, blank=True
    )
    secret_env = models.CharField(
        _("secret's environment variable"),
        max_length=100,
        blank=True,
        validators=[secret_env_validator],
        help_text=_(
            "Open311: holds the api_key. Webhook: holds the signing secret(s), "
            "whsec_…, separated by spaces while a secret is being rotated."
        ),
    )
    send_contact = models.BooleanField(
        _("always send the reporter's contact details"),
        default=False,
        help_text=_(
            "Otherwise name, e-mail and phone go only with the reporter's consent."
        ),
    )
    timeout_seconds = models.FloatField(_("timeout (seconds)"), default=10.0)
    max_in_flight = models.PositiveSmallIntegerField(
        _("deliveries in flight at most"), default=4
    )
    is_active = models.BooleanField(
        _("active"),
        default=True,
        help_text=_("Deliveries wait while a connection is switched off."),
    )

    # Health, kept by the outbox.
    last_success_at = models.DateTimeField(null=True, blank=True, editable=False)
    last_failure_at = models.DateTimeField(null=True, blank=True, editable=False)
    consecutive_failures = models.PositiveIntegerField(default=0, editable=False)
    circuit_open_until = models.DateTimeField(null=True, blank=True, editable=False)
    # When the circuit last opened: requests already under way then do not
    # count towards the next opening.
    circuit_opened_at = models.DateTimeField(null=True, blank=True, editable=False)
    last_error = models.TextField(blank=True, editable=False)
    services_synced_at = models.DateTimeField(null=True, blank=True, editable=False)
    poll_updates = models.BooleanField(
        _("poll for status updates"),
        default=False,
        help_text=_(
            "Open311: ask the case system's servicerequestupdates for changes, "
            "for systems that cannot send them."
        ),
    )
    # Polling: everything up to the cursor has been read (minus an overlap).
    updates_cursor = models.DateTimeField(null=True, blank=True, editable=False)
    updates_polled_at = models.DateTimeField(null=True, blank=True, editable=False)

    panels = [
        FieldPanel("body"),
        FieldPanel("name"),
        FieldPanel("kind"),
        FieldPanel("endpoint"),
        FieldPanel("email"),
        FieldPanel("jurisdiction_id"),
        FieldPanel("secret_env"),
        FieldPanel("send_contact"),
        FieldPanel("timeout_seconds"),
        FieldPanel("max_in_flight"),
        FieldPanel("is_active"),
        FieldPanel("poll_updates"),
        InlinePanel("services", label=_("Open311 service codes")),
    ]

    class Meta:
        ordering = ["body__name", "name"]
        verbose_name = _("case-system connection")
        verbose_name_plural = _("case-system connections")

    def __str__(self) -> str:
        return f"{self.body}: {self.name}"


class ConnectionService(models.Model):
    """Which Open311 service code a category has on a connection (kept by the
    service-list sync, or set by staff)."""

    connection = ParentalKey(
        Connection, on_delete=models.CASCADE, related_name="services"
    )
    category = models.ForeignKey(
        "Category",
        on_delete=models.CASCADE,
        related_name="service_codes",
        verbose_name=_("category"),
    )
    service_code = models.CharField(_("service code"), max_length=100)
    service_name = models.CharField(_("service name"), max_length=200, blank=True)
    definition = models.JSONField(
        _("service definition"),
        default=dict,
        blank=True,
        help_text=_("The service definition, as last synced."),
    )
    synced_at = models.DateTimeField(null=True, blank=True, editable=False)

    panels = [FieldPanel("category"), FieldPanel("service_code")]

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["connection", "service_code"], name="unique_service_code"
            ),
            models.UniqueConstraint(
                fields=["connection", "category"], name="one_service_code_per_category"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.service_code} → {self.category}"


class Route(models.Model):
    """Who handles a category in a kommun; a route without a kommun applies anywhere."""

    category = models.ForeignKey(
        Category,
        on_delete=models.CASCADE,
        related_name="routes",
        verbose_name=_("category"),
    )
    municipality = models.ForeignKey(
        Municipality,
        verbose_name=_("kommun"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="routes",
        help_text=_("Empty for a nationwide route, such as state roads."),
    )
    body = models.ForeignKey(
        Body,
        on_delete=models.PROTECT,
        related_name="routes",
        verbose_name=pgettext_lazy("responsible organisation", "body"),
    )
    connection = models.ForeignKey(
        Connection,
        verbose_name=_("connection"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="routes",
        help_text=_("Empty: the body's first active connection."),
    )

    class Meta:
        verbose_name = _("route")
        verbose_name_plural = _("routes")
        constraints = [
            models.UniqueConstraint(
                fields=["municipality", "category"],
                name="one_route_per_kommun_category",
            ),
            models.UniqueConstraint(
                fields=["category"],
                condition=Q(municipality__isnull=True),
                name="one_nationwide_route_per_category",
            ),
        ]

    def __str__(self) -> str:
        where = self.municipality or _("all of Sweden")
        return _("%(category)s in %(where)s → %(body)s") % {
            "category": self.category,
            "where": where,
            "body": self.body,
        }


class CategoryQuestion(models.Model):
    """An extra question staff attach to a category (\"Which lamp post number?\")."""

    category = ParentalKey(
        Category,
        on_delete=models.CASCADE,
        related_name="questions",
        verbose_name=_("category"),
    )
    # Empty: asked in every kommun (the national list's questions, and those a
    # case system's service definition asks); set: a kommun's own question,
    # asked only for reports in that kommun.
    municipality = models.ForeignKey(
        Municipality,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="category_questions",
        verbose_name=_("kommun"),
        help_text=_("Empty: asked in every kommun."),
    )
    code = models.SlugField(
        _("code"),
        max_length=50,
        help_text=_("Key of the answer, also sent to case systems."),
    )
    label = models.CharField(_("question"), max_length=200)
    kind = models.CharField(_("kind"), max_length=10, choices=QuestionKind.choices)
    required = models.BooleanField(_("required"), default=False)
    help_text = models.CharField(_("help text"), max_length=300, blank=True)
    choices = models.JSONField(
        pgettext_lazy("extra question", "choices"),
        default=list,
        blank=True,
        help_text=_("The options of a single or multiple choice question."),
    )
    sort_order = models.PositiveIntegerField(_("sort order"), default=0)

    panels = [
        FieldPanel("code"),
        FieldPanel("label"),
        FieldPanel("kind"),
        FieldPanel("required"),
        FieldPanel("help_text"),
        FieldPanel("choices"),
        FieldPanel("municipality"),
    ]

    class Meta:
        ordering = ["sort_order", "pk"]
        verbose_name = _("extra question")
        verbose_name_plural = _("extra questions")
        constraints = [
            models.UniqueConstraint(
                fields=["category", "code"],
                condition=Q(municipality__isnull=True),
                name="unique_question_code",
            ),
            models.UniqueConstraint(
                fields=["category", "municipality", "code"],
                condition=Q(municipality__isnull=False),
                name="unique_kommun_question_code",
            ),
        ]

    def __str__(self) -> str:
        return self.label

    def clean(self) -> None:
        choice_kinds = (QuestionKind.SINGLE, QuestionKind.MULTIPLE)
        valid = isinstance(self.choices, list) and all(
            isinstance(c, str) and c.strip() for c in self.choices
        )
        if self.kind in choice_kinds and not (valid and self.choices):
            raise ValidationError(
                {"choices": _("A choice question needs a list of options.")}
            )
        # Answers are kept by code: a kommun's question cannot take the code of
        # one asked everywhere, nor the other way round.
        if self.category_id and self.code:
            others = CategoryQuestion.objects.filter(
                category_id=self.category_id, code=self.code
            ).exclude(pk=self.pk)
            if self.municipality_id is None:
                clash = others.exists()
            else:
                clash = others.filter(
                    Q(municipality__isnull=True) | Q(municipality=self.municipality_id)
                ).exists()
            if clash:
                raise ValidationError(
                    {"code": _("The category already asks a question with this code.")}
                )


class AuditEntry(models.Model):
    """One staff action: who, what, when, on what, before and after. Append-only:
    written by ``municipalities.audit.audit_record`` alone, never changed or
    deleted (``save`` refuses an update, ``delete`` refuses)."""

    at = models.DateTimeField(_("when"), db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("who"),
    )
    # Kept as written, so the entry still says who acted after the account is gone.
    actor_name = models.CharField(_("who"), max_length=200)
    municipality = models.ForeignKey(
        Municipality,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("kommun"),
    )
    action = models.CharField(_("action"), max_length=60, db_index=True)
    object_type = models.CharField(_("object type"), max_length=100)
    object_id = models.CharField(_("object id"), max_length=64, blank=True)
    object_label = models.CharField(_("object"), max_length=255, blank=True)
    before = models.JSONField(_("before"), default=dict, blank=True)
    after = models.JSONField(_("after"), default=dict, blank=True)

    class Meta:
        ordering = ["-at", "-pk"]
        indexes = [
            models.Index(fields=["municipality", "-at"], name="audit_kommun_at"),
            models.Index(fields=["object_type", "object_id"], name="audit_object"),
        ]
        verbose_name = _("audit entry")
        verbose_name_plural = _("audit log")

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.actor_name} {self.action}"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise ValidationError("An audit entry is never changed.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ValidationError("An audit entry is never deleted.")


class ServicePromise(models.Model):
    """What a kommun promises (servicelöfte): a first response and a fix within
    so many working days, for one category or, without one, for every category
    that has no promise of its own. Reports keep the promise they were received
    under (reports.milestones)."""

    municipality = models.ForeignKey(
        Municipality,
        on_delete=models.CASCADE,
        related_name="service_promises",
        verbose_name=_("kommun"),
    )
    category = models.ForeignKey(
        Category,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
        verbose_name=_("category"),
        help_text=_("Empty: the kommun's promise for every other category."),
    )
    response_days = models.PositiveSmallIntegerField(
        _("first response within (working days)"),
        validators=[MinValueValidator(1), MaxValueValidator(365)],
    )
    fix_days = models.PositiveSmallIntegerField(
        _("fixed within (working days)"),
        validators=[MinValueValidator(1), MaxValueValidator(365)],
    )

    class Meta:
        ordering = ["municipality__name", "category__name"]
        verbose_name = _("service promise")
        verbose_name_plural = _("service promises")
        constraints = [
            models.UniqueConstraint(
                fields=["municipality", "category"],
                condition=Q(category__isnull=False),
                name="one_promise_per_kommun_category",
            ),
            models.UniqueConstraint(
                fields=["municipality"],
                condition=Q(category__isnull=True),
                name="one_default_promise_per_kommun",
            ),
            models.CheckConstraint(
                condition=Q(response_days__gte=1) & Q(fix_days__gte=1),
                name="promise_of_at_least_one_day",
            ),
        ]

    def __str__(self) -> str:
        # Outside the f-string, where makemessages finds it.
        category = self.category or _("every other category")
        return f"{self.municipality}: {category}"

    def clean(self) -> None:
        if self.response_days and self.fix_days and self.fix_days < self.response_days:
            raise ValidationError(
                {
                    "fix_days": _(
                        "A fix cannot be promised sooner than the first response."
                    )
                }
            )


class WorkCalendar(models.Model):
    """A kommun's working days: Monday to Friday but Sweden's public holidays
    (from the holidays library), the de facto days off it chooses, and its own
    extra days off (klämdagar). Without a row: all three de facto days off."""

    municipality = models.OneToOneField(
        Municipality,
        on_delete=models.CASCADE,
        related_name="work_calendar",
        verbose_name=_("kommun"),
    )
    midsummer_eve_off = models.BooleanField(
        _("Midsommarafton is a day off"), default=True
    )
    christmas_eve_off = models.BooleanField(_("Julafton is a day off"), default=True)
    new_years_eve_off = models.BooleanField(_("Nyårsafton is a day off"), default=True)
    extra_days_off = models.TextField(
        _("other days off"),
        blank=True,
        help_text=_(
            "One date per line as YYYY-MM-DD, optionally followed by a name, "
            "for example “2027-05-07 Klämdag”."
        ),
    )

    class Meta:
        verbose_name = _("working-day calendar")
        verbose_name_plural = _("working-day calendars")

    def __str__(self) -> str:
        return str(self.municipality)

    def clean(self) -> None:
        try:
            extra_days_parse(self.extra_days_off)
        except ValidationError as error:
            raise ValidationError({"extra_days_off": error.messages}) from None


class OperationalMessage(models.Model):
    """A driftmeddelande: what a kommun tells everyone reporting there for a
    while ("Vinterväghållning pågår i hela kommunen"). Shown on the kommun's
    site from ``starts_at`` to ``ends_at``; when tied to categories or a
    district, also on the report form at a point there. With ``mark_known``,
    reports made in its categories and area while it is shown are marked as
    a known problem (reports.services). Read by municipalities.notices."""

    municipality = models.ForeignKey(
        Municipality,
        on_delete=models.CASCADE,
        related_name="operational_messages",
        verbose_name=_("kommun"),
    )
    title = models.CharField(_("title"), max_length=120)
    text = models.TextField(_("message"), max_length=1000)
    starts_at = models.DateTimeField(_("shown from"))
    ends_at = models.DateTimeField(
        _("shown until"),
        null=True,
        blank=True,
        help_text=_("Leave empty to show it until you end it."),
    )
    categories = models.ManyToManyField(
        Category,
        blank=True,
        related_name="+",
        verbose_name=_("categories"),
        help_text=_("Leave empty for every category."),
    )
    district = models.ForeignKey(
        District,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("district"),
        help_text=_("Leave empty for the whole kommun."),
    )
    mark_known = models.BooleanField(
        _("mark new reports as a known problem"),
        default=False,
        help_text=_(
            "Reports made in these categories and this area while the message "
            "is shown are marked as known, and their reporters are told so."
        ),
    )

    class Meta:
        ordering = ["-starts_at", "pk"]
        verbose_name = _("operational message")
        verbose_name_plural = _("operational messages")
        indexes = [
            models.Index(
                fields=["municipality", "starts_at"], name="operational_message_when"
            )
        ]

    def __str__(self) -> str:
        return self.title

    def clean(self):
        super().clean()
        errors = {}
        if self.starts_at and self.ends_at and self.ends_at <= self.starts_at:
            errors["ends_at"] = _("The end must be after the start.")
        if (
            self.district_id
            and self.municipality_id
            and self.district.municipality_id != self.municipality_id
        ):
            errors["district"] = _("Choose a district of the message's kommun.")
        if errors:
            raise ValidationError(errors)
