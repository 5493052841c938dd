"""The blocks a kommun's editors build their pages from (StreamField).

Each block renders accessible HTML of its own (``cms/blocks/*.html``): an
image always has its alt text (or is marked decorative), a FAQ is a list of
native ``<details>`` that open by keyboard, a map always has the plain list of
reports beside it. The blocks that show the kommun's own reports, service
promises and statistics read them for the site the page is served on, so the
same block shows Malmö's on Malmö's site and the whole country on the national
site.
"""

from __future__ import annotations

import datetime as dt

from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from wagtail import blocks
from wagtail.blocks import StructBlockValidationError
from wagtail.images.blocks import ImageBlock

from municipalities.locate import map_bounds
from municipalities.promises import offered_promises
from municipalities.tenancy import tenant_for_request
from reports.models import Report
from reports.services import reports_within
from stats.figures import figures_compute

from .maps import latitude_validate, longitude_validate

# How long a page's statistics highlights are kept before they are counted again.
HIGHLIGHTS_SECONDS = 600


def _municipality(context):
    """The kommun of the site serving the page (None on the national site)."""
    request = (context or {}).get("request")
    return tenant_for_request(request).municipality if request is not None else None


class RichTextBlock(blocks.RichTextBlock):
    class Meta:
        icon = "pilcrow"
        label = _("Text")
        template = "cms/blocks/text.html"


class FigureBlock(blocks.StructBlock):
    """An image with its alt text (required unless marked decorative, by
    Wagtail's ImageBlock) and an optional caption."""

    image = ImageBlock(label=_("image"))
    caption = blocks.CharBlock(label=_("caption"), required=False, max_length=250)

    class Meta:
        icon = "image"
        label = _("Image")
        template = "cms/blocks/figure.html"


class CallToActionBlock(blocks.StructBlock):
    heading = blocks.CharBlock(label=_("heading"), max_length=120)
    text = blocks.TextBlock(label=_("text"), required=False, max_length=500)
    button_text = blocks.CharBlock(label=_("button text"), max_length=60)
    page = blocks.PageChooserBlock(
        label=_("page"),
        required=False,
        help_text=_("Leave page and address empty to link to the report form."),
    )
    url = blocks.URLBlock(label=_("address"), required=False)

    class Meta:
        icon = "pick"
        label = _("Call to action")
        template = "cms/blocks/call_to_action.html"

    def clean(self, value):
        value = super().clean(value)
        if value.get("page") and value.get("url"):
            raise StructBlockValidationError(
                block_errors={
                    "url": ValidationError(_("Give a page or an address, not both."))
                }
            )
        return value


class QuestionBlock(blocks.StructBlock):
    question = blocks.CharBlock(label=_("question"), max_length=200)
    answer = blocks.RichTextBlock(
        label=_("answer"), features=["bold", "italic", "link", "ul", "ol"]
    )

    class Meta:
        label = _("question")


class FaqBlock(blocks.StructBlock):
    heading = blocks.CharBlock(
        label=_("heading"), max_length=120, default=_("Common questions")
    )
    questions = blocks.ListBlock(QuestionBlock(), label=_("questions"), min_num=1)

    class Meta:
        icon = "help"
        label = _("Questions and answers")
        template = "cms/blocks/faq.html"


class ContactCardBlock(blocks.StructBlock):
    heading = blocks.CharBlock(label=_("heading"), max_length=120)
    text = blocks.TextBlock(label=_("text"), required=False, max_length=500)
    phone = blocks.CharBlock(label=_("phone"), required=False, max_length=40)
    email = blocks.EmailBlock(label=_("e-mail"), required=False)
    address = blocks.TextBlock(label=_("postal address"), required=False)
    hours = blocks.CharBlock(label=_("opening hours"), required=False, max_length=200)

    class Meta:
        icon = "user"
        label = _("Contact card")
        template = "cms/blocks/contact_card.html"


class ReportsMapBlock(blocks.StructBlock):
    """The kommun's reports on a map (the public map's script and API), with a
    link to the same reports as a list."""

    heading = blocks.CharBlock(
        label=_("heading"), max_length=120, default=_("Reports on the map")
    )

    class Meta:
        icon = "site"
        label = _("Map of reports")
        template = "cms/blocks/reports_map.html"

    def get_context(self, value, parent_context=None):
        context = super().get_context(value, parent_context)
        context["map_bounds"] = list(map_bounds(_municipality(parent_context)))
        return context


class LatestReportsBlock(blocks.StructBlock):
    """The newest public reports of the site's kommun, or those near a point
    the editor gives (a park, a square)."""

    heading = blocks.CharBlock(
        label=_("heading"), max_length=120, default=_("Latest reports")
    )
    count = blocks.IntegerBlock(
        label=_("how many"), default=5, min_value=1, max_value=20
    )
    latitude = blocks.DecimalBlock(
        label=_("near latitude"),
        required=False,
        decimal_places=6,
        help_text=_("For the reports near a place: its latitude and longitude."),
    )
    longitude = blocks.DecimalBlock(
        label=_("near longitude"), required=False, decimal_places=6
    )
    radius = blocks.IntegerBlock(
        label=_("within metres"), default=500, min_value=50, max_value=5000
    )

    class Meta:
        icon = "list-ul"
        label = _("Latest reports")
        template = "cms/blocks/latest_reports.html"

    def clean(self, value):
        value = super().clean(value)
        lat, lon = value.get("latitude"), value.get("longitude")
        errors = {}
        if (lat is None) != (lon is None):
            missing = "longitude" if lon is None else "latitude"
            errors[missing] = ValidationError(
                _("Give both latitude and longitude, or neither.")
            )
        # In Sweden, by the check of a site's start view; each error at its field.
        for name, validate in (
            ("latitude", latitude_validate),
            ("longitude", longitude_validate),
        ):
            if value.get(name) is not None:
                try:
                    validate(float(value[name]))
                except ValidationError as error:
                    errors[name] = error
        if errors:
            raise StructBlockValidationError(block_errors=errors)
        return value

    def get_context(self, value, parent_context=None):
        context = super().get_context(value, parent_context)
        context["reports"] = latest_reports(
            municipality=_municipality(parent_context),
            count=value["count"],
            near=(value["latitude"], value["longitude"])
            if value.get("latitude") is not None
            else None,
            radius=value["radius"],
        )
        return context


def latest_reports(*, municipality, count: int, near=None, radius: int = 500):
    """The newest public reports of the kommun (everywhere for None), or,
    ``near`` a point (latitude, longitude), those within ``radius`` metres,
    nearest first."""
    reports = Report.objects.public().select_related("category")
    if municipality is not None:
        reports = reports.filter(municipality=municipality)
    if near is None:
        return list(reports.order_by("-created_at", "-pk")[:count])
    found = reports_within(
        reports.order_by("-created_at", "-pk"),
        lat=float(near[0]),
        lon=float(near[1]),
        meters=radius,
    )
    return [report for report, _distance in found[:count]]


class ServicePromisesBlock(blocks.StructBlock):
    heading = blocks.CharBlock(
        label=_("heading"), max_length=120, default=_("Our service promises")
    )

    class Meta:
        icon = "tick-inverse"
        label = _("Service promises")
        template = "cms/blocks/service_promises.html"

    def get_context(self, value, parent_context=None):
        context = super().get_context(value, parent_context)
        municipality = _municipality(parent_context)
        context["municipality"] = municipality
        if municipality is not None:
            context["default_promise"], context["category_promises"] = offered_promises(
                municipality
            )
        return context


class StatisticsBlock(blocks.StructBlock):
    """The last twelve months in four figures, linking to the statistics."""

    heading = blocks.CharBlock(
        label=_("heading"), max_length=120, default=_("The last twelve months")
    )

    class Meta:
        icon = "table"
        label = _("Statistics highlights")
        template = "cms/blocks/statistics.html"

    def get_context(self, value, parent_context=None):
        context = super().get_context(value, parent_context)
        context["highlights"] = statistics_highlights(_municipality(parent_context))
        return context


def highlights_key(municipality, day: dt.date) -> str:
    return f"cms:highlights:{municipality.pk if municipality else 'se'}:{day}"


def statistics_highlights(municipality) -> dict:
    """Received, fixed, the median working days to a fix and the share of fix
    promises kept, over the twelve months to today (counted once per
    ``HIGHLIGHTS_SECONDS`` and kommun)."""
    today = timezone.localdate()
    key = highlights_key(municipality, today)
    found = cache.get(key)
    if found is not None:
        return found
    start = (today.replace(day=1) - dt.timedelta(days=335)).replace(day=1)
    reports = Report.objects.all()
    if municipality is not None:
        reports = reports.filter(municipality=municipality)
    total = figures_compute(reports, start=start, end=today).total
    found = {
        "start": start,
        "received": total.received,
        "fixed": total.fixed,
        "fix_median": total.fix_median,
        "fix_kept_percent": round(total.fix_kept_share * 100)
        if total.fix_kept_share is not None
        else None,
    }
    cache.set(key, found, HIGHLIGHTS_SECONDS)
    return found


def content_blocks() -> list[tuple[str, blocks.Block]]:
    """The blocks of home and content pages."""
    return [
        ("text", RichTextBlock()),
        ("image", FigureBlock()),
        ("call_to_action", CallToActionBlock()),
        ("faq", FaqBlock()),
        ("contact", ContactCardBlock()),
        ("reports_map", ReportsMapBlock()),
        ("latest_reports", LatestReportsBlock()),
        ("service_promises", ServicePromisesBlock()),
        ("statistics", StatisticsBlock()),
    ]


# One map a page: the public map's script draws one.
BLOCK_COUNTS = {"reports_map": {"max_num": 1}}
