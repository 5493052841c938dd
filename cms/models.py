from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.core.validators import RegexValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from wagtail import blocks
from wagtail.admin.panels import FieldPanel, MultiFieldPanel
from wagtail.contrib.settings.models import BaseSiteSetting, register_setting
from wagtail.fields import RichTextField, StreamField
from wagtail.models import Page
from wagtail.search import index

from municipalities.models import Municipality
from municipalities.notices import messages_now

from .blocks import BLOCK_COUNTS, content_blocks, latest_reports
from .branding import MIN_CONTRAST, WHITE, contrast, contrast_params, version
from .maps import (
    latitude_validate,
    longitude_validate,
    tile_url_validate,
    zoom_validate,
)
from .preview import PhoneFirstPreviewMixin


def _body(**kwargs) -> StreamField:
    return StreamField(
        content_blocks(),
        blank=True,
        block_counts=BLOCK_COUNTS,
        verbose_name=pgettext_lazy("page content", "body"),
        **kwargs,
    )


class BlocksMixin:
    """What a page's templates ask of its blocks."""

    def _has_block(self, block_type: str) -> bool:
        return any(block.block_type == block_type for block in self.body)

    @property
    def has_map(self) -> bool:
        """Whether the page needs the map's script and styles."""
        return self._has_block("reports_map")

    @property
    def has_latest_reports(self) -> bool:
        return self._has_block("latest_reports")


class HomePage(PhoneFirstPreviewMixin, BlocksMixin, Page):
    """What the national home and each kommun's home have in common: an intro,
    blocks, and, around them, the call to report, the latest reports and the
    site's news (``templates/cms/_home.html``)."""

    intro = RichTextField(_("introduction"), blank=True)
    body = _body()

    content_panels = [*Page.content_panels, FieldPanel("intro"), FieldPanel("body")]
    search_fields = [*Page.search_fields, index.SearchField("body")]
    parent_page_types = ["wagtailcore.Page"]
    subpage_types = [
        "cms.ContentPage",
        "cms.NewsIndexPage",
        "cms.AccessibilityStatementPage",
    ]

    class Meta:
        abstract = True

    def get_context(self, request, *args, **kwargs):
        context = super().get_context(request, *args, **kwargs)
        context["latest_news"] = (
            NewsPage.objects.live()
            .public()
            .descendant_of(self)
            .order_by("-date", "-pk")[:3]
        )
        context["news_index"] = (
            NewsIndexPage.objects.live().public().child_of(self).first()
        )
        municipality = self.site_municipality()
        if not self.has_latest_reports:
            context["latest_reports"] = latest_reports(
                municipality=municipality, count=5
            )
        context["operational_messages"] = (
            list(messages_now(municipality.pk)) if municipality else []
        )
        return context

    def site_municipality(self) -> Municipality | None:
        """The kommun whose site this is; None for the national site."""
        return None


class NationalHomePage(HomePage):
    """The national site's home: report anywhere in Sweden."""

    max_count = 1

    class Meta:
        verbose_name = _("national home page")

    def get_context(self, request, *args, **kwargs):
        context = super().get_context(request, *args, **kwargs)
        context["participating_count"] = Municipality.objects.filter(
            participating=True
        ).count()
        return context


class MunicipalityHomePage(HomePage):
    """A kommun's own site home, edited by that kommun's editors."""

    class Meta:
        verbose_name = _("kommun home page")

    def site_municipality(self) -> Municipality | None:
        if not hasattr(self, "_municipality"):
            self._municipality = Municipality.objects.filter(
                site__root_page=self
            ).first()
        return self._municipality

    def get_context(self, request, *args, **kwargs):
        context = super().get_context(request, *args, **kwargs)
        context["municipality"] = self.site_municipality()
        return context


class BreadcrumbsMixin:
    def breadcrumbs(self) -> list[Page]:
        """The way here from the site's home page, home first (this page not
        included)."""
        return list(self.get_ancestors().filter(depth__gte=2).live().public())


class ContentPage(PhoneFirstPreviewMixin, BreadcrumbsMixin, BlocksMixin, Page):
    """A content page (about, contact, how we handle reports…) built of blocks."""

    body = _body()

    content_panels = [*Page.content_panels, FieldPanel("body")]
    search_fields = [*Page.search_fields, index.SearchField("body")]
    parent_page_types = [
        "cms.NationalHomePage",
        "cms.MunicipalityHomePage",
        "cms.ContentPage",
    ]
    subpage_types = ["cms.ContentPage"]

    class Meta:
        verbose_name = _("content page")


class NewsIndexPage(PhoneFirstPreviewMixin, BreadcrumbsMixin, Page):
    """The site's news, newest first, a page at a time."""

    intro = RichTextField(_("introduction"), blank=True)

    content_panels = [*Page.content_panels, FieldPanel("intro")]
    parent_page_types = ["cms.NationalHomePage", "cms.MunicipalityHomePage"]
    subpage_types = ["cms.NewsPage"]
    max_count_per_parent = 1
    per_page = 10

    class Meta:
        verbose_name = _("news index")

    def get_context(self, request, *args, **kwargs):
        context = super().get_context(request, *args, **kwargs)
        news = NewsPage.objects.live().public().child_of(self).order_by("-date", "-pk")
        page = Paginator(news, self.per_page).get_page(request.GET.get("sida"))
        context["news_page"] = page
        context["page_numbers"] = page.paginator.get_elided_page_range(
            page.number, on_each_side=2, on_ends=1
        )
        return context


class NewsPage(PhoneFirstPreviewMixin, BreadcrumbsMixin, BlocksMixin, Page):
    """One news item: its date, a summary for lists, and blocks."""

    date = models.DateField(_("date"), default=timezone.localdate)
    summary = models.TextField(
        _("summary"),
        max_length=300,
        help_text=_("One or two sentences, shown in lists of news."),
    )
    body = _body()

    content_panels = [
        *Page.content_panels,
        FieldPanel("date"),
        FieldPanel("summary"),
        FieldPanel("body"),
    ]
    search_fields = [
        *Page.search_fields,
        index.SearchField("summary"),
        index.SearchField("body"),
    ]
    parent_page_types = ["cms.NewsIndexPage"]
    subpage_types: list[str] = []

    class Meta:
        verbose_name = _("news item")
        verbose_name_plural = _("news items")


class Compliance(models.TextChoices):
    """How far the site meets the requirements (DIGG's three levels)."""

    FULL = "full", _("fully compliant")
    PARTIAL = "partial", _("partially compliant")
    NONE = "none", _("not compliant")


class AccessibilityStatementPage(PhoneFirstPreviewMixin, Page):
    """The site's accessibility statement (tillgänglighetsredogörelse), in the
    structure DIGG's model prescribes under the DOS law (lagen om tillgänglighet
    till digital offentlig service): who stands behind the site, how accessible
    it is, what a visitor can do and whom to tell, DIGG's supervision, the
    technical information, the content that is not accessible and why, and how
    the site was assessed. The fixed parts are in the template; the kommun's
    editors fill in the rest."""

    organisation = models.CharField(
        _("organisation"),
        max_length=200,
        help_text=_("Who stands behind the site, for example “Malmö stad”."),
    )
    compliance = models.CharField(
        _("compliance with WCAG 2.1 AA"),
        max_length=10,
        choices=Compliance.choices,
        default=Compliance.PARTIAL,
    )
    contact_email = models.EmailField(
        _("e-mail for accessibility issues"),
        help_text=_(
            "Where visitors ask for content in another form or report problems."
        ),
    )
    contact_phone = models.CharField(_("telephone"), max_length=40, blank=True)
    response_time = models.CharField(
        _("usual response time"), max_length=100, default="2–5 arbetsdagar"
    )
    non_compliant = RichTextField(
        _("non-compliance with the requirements"),
        blank=True,
        help_text=_("What is not accessible, and which WCAG criteria it fails."),
    )
    disproportionate_burden = RichTextField(
        _("disproportionate burden"),
        blank=True,
        help_text=_(
            "Content not made accessible because it would be unreasonably burdensome."
        ),
    )
    outside_scope = RichTextField(
        _("content outside the law's scope"),
        blank=True,
        help_text=_(
            "For example third-party content the organisation does not control."
        ),
    )
    assessment = RichTextField(
        _("how the site was tested"),
        help_text=_("Method (self-assessment, external audit, tools) and by whom."),
    )
    assessed_on = models.DateField(_("date of the latest assessment"))
    site_published_on = models.DateField(
        _("date the site was published"), null=True, blank=True
    )

    content_panels = [
        *Page.content_panels,
        FieldPanel("organisation"),
        FieldPanel("compliance"),
        MultiFieldPanel(
            [
                FieldPanel("contact_email"),
                FieldPanel("contact_phone"),
                FieldPanel("response_time"),
            ],
            heading=_("Contact"),
        ),
        MultiFieldPanel(
            [
                FieldPanel("non_compliant"),
                FieldPanel("disproportionate_burden"),
                FieldPanel("outside_scope"),
            ],
            heading=_("Content that is not accessible"),
        ),
        FieldPanel("assessment"),
        FieldPanel("assessed_on"),
        FieldPanel("site_published_on"),
    ]
    parent_page_types = ["cms.NationalHomePage", "cms.MunicipalityHomePage"]
    subpage_types: list[str] = []
    max_count_per_parent = 1

    class Meta:
        verbose_name = _("accessibility statement")


COLOUR = RegexValidator(
    r"^#[0-9a-fA-F]{6}$", _("Give the colour as # and six hexadecimal digits.")
)


class LinkBlock(blocks.StructBlock):
    text = blocks.CharBlock(label=_("text"), max_length=80)
    url = blocks.URLBlock(label=_("address"))

    class Meta:
        icon = "link"
        label = _("link")


@register_setting(icon="image")
class SiteBranding(BaseSiteSetting):
    """A site's own look and contacts, edited by its kommun's editors (each
    kommun's editors have this permission for their own site only:
    cms.services)."""

    logo = models.ForeignKey(
        "wagtailimages.Image",
        verbose_name=_("logo"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    brand_colour = models.CharField(
        _("brand colour"),
        max_length=7,
        default="#1d4f91",
        validators=[COLOUR],
        help_text=_(
            "The header's background and the colour of the footer's links, as #rrggbb."
        ),
    )
    brand_text_colour = models.CharField(
        _("header text colour"),
        max_length=7,
        default=WHITE,
        validators=[COLOUR],
        help_text=_("The colour of the text on the brand colour, as #rrggbb."),
    )
    contact_phone = models.CharField(_("phone"), max_length=40, blank=True)
    contact_email = models.EmailField(_("e-mail"), blank=True)
    contact_address = models.TextField(_("postal address"), blank=True)
    web_address = models.URLField(
        _("the kommun's own website"),
        blank=True,
        help_text=_("Where to go for anything that is not a fault report."),
    )
    footer_links = StreamField(
        [("link", LinkBlock())], blank=True, verbose_name=_("footer links")
    )
    social_links = StreamField(
        [("link", LinkBlock())], blank=True, verbose_name=_("social media")
    )
    # The site's maps (cms.maps): empty, the platform's tiles and the kommun's
    # extent.
    tile_url = models.CharField(
        _("map tiles"),
        max_length=500,
        blank=True,
        validators=[tile_url_validate],
        help_text=_(
            "The address of the map's tiles, with {z}, {x} and {y}, for example "
            "https://tiles.example.se/{z}/{x}/{y}.png. Empty: the platform's map."
        ),
    )
    tile_attribution = models.CharField(
        _("map attribution"),
        max_length=200,
        blank=True,
        help_text=_(
            "Who made the map, as its licence asks, shown in its corner; "
            "required with your own tiles."
        ),
    )
    map_latitude = models.FloatField(
        _("start view: latitude"),
        null=True,
        blank=True,
        validators=[latitude_validate],
        help_text=_(
            "Where the maps open, in degrees north. Empty, with the longitude "
            "and zoom level: the maps show the whole kommun."
        ),
    )
    map_longitude = models.FloatField(
        _("start view: longitude"),
        null=True,
        blank=True,
        validators=[longitude_validate],
        help_text=_("Where the maps open, in degrees east."),
    )
    map_zoom = models.PositiveSmallIntegerField(
        _("start view: zoom level"),
        null=True,
        blank=True,
        validators=[zoom_validate],
        help_text=_("From 5 (a region) to 18 (a street); 12 shows a town."),
    )

    panels = [
        MultiFieldPanel(
            [
                FieldPanel("logo"),
                FieldPanel("brand_colour"),
                FieldPanel("brand_text_colour"),
            ],
            heading=_("Look"),
        ),
        MultiFieldPanel(
            [
                FieldPanel("contact_phone"),
                FieldPanel("contact_email"),
                FieldPanel("contact_address"),
                FieldPanel("web_address"),
            ],
            heading=_("Contact"),
        ),
        FieldPanel("footer_links"),
        FieldPanel("social_links"),
        MultiFieldPanel(
            [
                FieldPanel("tile_url"),
                FieldPanel("tile_attribution"),
                FieldPanel("map_latitude"),
                FieldPanel("map_longitude"),
                FieldPanel("map_zoom"),
            ],
            heading=_("Map"),
        ),
    ]

    class Meta:
        verbose_name = _("site branding")

    @property
    def stylesheet_version(self) -> str:
        return version(self.brand_colour, self.brand_text_colour)

    @property
    def has_start_view(self) -> bool:
        return None not in (self.map_latitude, self.map_longitude, self.map_zoom)

    def clean(self):
        super().clean()
        errors = {**self._map_errors(), **self._contrast_errors()}
        if errors:
            raise ValidationError(errors)

    def _contrast_errors(self) -> dict:
        errors = {}
        try:
            COLOUR(self.brand_colour)
            COLOUR(self.brand_text_colour)
        except ValidationError:
            return errors  # the field says so
        ratio = contrast(self.brand_colour, self.brand_text_colour)
        if ratio < MIN_CONTRAST:
            errors["brand_text_colour"] = _(
                "The text and the brand colour contrast %(ratio)s:1; at least "
                "%(min)s:1 is needed to be read (WCAG 2.1 AA)."
            ) % contrast_params(ratio)
        ratio = contrast(self.brand_colour, WHITE)
        if ratio < MIN_CONTRAST:
            errors["brand_colour"] = _(
                "Links in the brand colour on white contrast %(ratio)s:1; at "
                "least %(min)s:1 is needed to be read (WCAG 2.1 AA)."
            ) % contrast_params(ratio)
        return errors

    def _map_errors(self) -> dict:
        """Own tiles need their attribution; a start view needs all three of
        its numbers (each number's range is its field's validator)."""
        errors = {}
        if self.tile_url and not self.tile_attribution.strip():
            errors["tile_attribution"] = _(
                "Say who made the map: its licence asks for it to be shown."
            )
        view = {
            "map_latitude": self.map_latitude,
            "map_longitude": self.map_longitude,
            "map_zoom": self.map_zoom,
        }
        if any(value is not None for value in view.values()):
            for field, value in view.items():
                if value is None:
                    errors[field] = _(
                        "A start view needs its latitude, longitude and zoom "
                        "level; give this one too, or empty all three."
                    )
        return errors
