from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from wagtail import blocks
from wagtail.admin.panels import FieldPanel, MultiFieldPanel
from wagtail.contrib.settings.models import BaseSiteSetting, register_setting
from wagtail.fields import RichTextField, StreamField
from wagtail.models import Page
from wagtail.search import index

from municipalities.models import Municipality

from .branding import MIN_CONTRAST, WHITE, contrast, version
from .preview import PhoneFirstPreviewMixin


class NationalHomePage(PhoneFirstPreviewMixin, Page):
    """The national site's home: report anywhere in Sweden."""

    intro = RichTextField(_("introduction"), blank=True)

    content_panels = [*Page.content_panels, FieldPanel("intro")]
    parent_page_types = ["wagtailcore.Page"]
    subpage_types = ["cms.ContentPage", "cms.AccessibilityStatementPage"]
    max_count = 1

    class Meta:
        verbose_name = _("national home page")

    def get_context(self, request, *args, **kwargs):
        context = super().get_context(request, *args, **kwargs)
        context["participating_count"] = Municipality.objects.filter(
            participating=True
        ).count()
        return context


class MunicipalityHomePage(PhoneFirstPreviewMixin, Page):
    """A kommun's own site home, edited by that kommun's editors."""

    intro = RichTextField(_("introduction"), blank=True)

    content_panels = [*Page.content_panels, FieldPanel("intro")]
    parent_page_types = ["wagtailcore.Page"]
    subpage_types = ["cms.ContentPage", "cms.AccessibilityStatementPage"]

    class Meta:
        verbose_name = _("kommun home page")

    def get_context(self, request, *args, **kwargs):
        context = super().get_context(request, *args, **kwargs)
        context["municipality"] = Municipality.objects.filter(
            site__root_page=self
        ).first()
        return context


class ContentPage(PhoneFirstPreviewMixin, Page):
    """A plain content page (about, contact, how we handle reports…)."""

    body = RichTextField(pgettext_lazy("page content", "body"), blank=True)

    content_panels = [*Page.content_panels, FieldPanel("body")]
    search_fields = [*Page.search_fields, index.SearchField("body")]
    parent_page_types = ["cms.NationalHomePage", "cms.MunicipalityHomePage"]
    subpage_types = ["cms.ContentPage"]

    class Meta:
        verbose_name = _("content page")

    def breadcrumbs(self) -> list[Page]:
        """The way here from the site's home page, home first (this page not
        included)."""
        return list(self.get_ancestors().filter(depth__gte=2).live().public())


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
    ]

    class Meta:
        verbose_name = _("site branding")

    @property
    def stylesheet_version(self) -> str:
        return version(self.brand_colour, self.brand_text_colour)

    def clean(self):
        super().clean()
        errors = {}
        try:
            COLOUR(self.brand_colour)
            COLOUR(self.brand_text_colour)
        except ValidationError:
            return  # the field says so
        ratio = contrast(self.brand_colour, self.brand_text_colour)
        if ratio < MIN_CONTRAST:
            errors["brand_text_colour"] = _(
                "The text and the brand colour contrast %(ratio).1f:1; at least "
                "%(min).1f:1 is needed to be read (WCAG 2.1 AA)."
            ) % {"ratio": ratio, "min": MIN_CONTRAST}
        ratio = contrast(self.brand_colour, WHITE)
        if ratio < MIN_CONTRAST:
            errors["brand_colour"] = _(
                "Links in the brand colour on white contrast %(ratio).1f:1; at "
                "least %(min).1f:1 is needed to be read (WCAG 2.1 AA)."
            ) % {"ratio": ratio, "min": MIN_CONTRAST}
        if errors:
            raise ValidationError(errors)
