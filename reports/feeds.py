"""Atom (RFC 4287) and RSS 2.0 feeds of what alerts tell by e-mail: a kommun's
new reports (optionally of one category), an area's (a point and a radius in
the query), and one report's public updates. Django's syndication framework
writes them; every link is absolute, on a configured site address
(``mail.root_url``), never the request's host. Nothing personal is in them:
no reporter's name or contact details, no internal events.

An unknown kommun or report is a 404; bad parameters are a 400 whose plain
text names the parameter and what it must be."""

from __future__ import annotations

from django.contrib.syndication.views import Feed
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils.feedgenerator import Atom1Feed, Rss201rev2Feed
from django.utils.translation import gettext as _
from wagtail.models import Site

from infra.ratelimit import rate_limited
from municipalities.locate import parse_point
from municipalities.models import Category, Municipality
from municipalities.tenancy import tenant_for_request

from .alerts import area_filter, distance_text, in_area, radius_check
from .mail import root_url
from .models import Report, ReportEvent
from .notifications import NOTIFIED_KINDS

FEED_ITEMS = 50
FORMATS = {"atom": Atom1Feed, "rss": Rss201rev2Feed}


def _site_root(request) -> str:
    """The configured address of the site the request is for."""
    site = Site.objects.filter(pk=tenant_for_request(request).site_id).first()
    return root_url(site)


def report_public_url(report: Report) -> str:
    """The report's page on its kommun's site (else the site it was filed on)."""
    site = report.municipality.site if report.municipality.site_id else None
    return root_url(site or report.filed_on_site) + reverse(
        "report-detail", args=[report.pk]
    )


class _Feed(Feed):
    """One feed, its object and addresses worked out by the view beforehand."""

    author_name = "Knutpunkt"

    def __init__(self, *, feed_type, obj, title, link, feed_url, description):
        super().__init__()
        self.feed_type = feed_type
        self._obj = obj
        self._title = title
        self._link = link
        self._feed_url = feed_url
        self._description = description

    def get_object(self, request, *args, **kwargs):
        return self._obj

    def title(self, obj):
        return self._title

    def link(self, obj):
        return self._link

    def feed_url(self, obj):
        return self._feed_url

    def description(self, obj):
        return self._description


class _ReportsFeed(_Feed):
    """New public reports, newest first."""

    def items(self, reports):
        return reports

    def item_title(self, report):
        return report.title

    def item_description(self, report):
        return (
            f"{report.category.name} · {report.get_status_display()} · "
            f"{report.municipality.name}\n\n{report.description}"
        )

    def item_link(self, report):
        return report_public_url(report)

    def item_pubdate(self, report):
        return report.confirmed_at

    def item_updateddate(self, report):
        # Atom requires each entry's <updated>; Django writes it only from this.
        return report.status_changed_at or report.confirmed_at

    def item_categories(self, report):
        return [report.category.name]


class _UpdatesFeed(_Feed):
    """One report's public updates, newest first."""

    def items(self, obj):
        return obj["events"]

    def item_title(self, event):
        title = event.get_kind_display()
        if event.status:
            title += f" – {event.get_status_display()}"
        return title

    def item_description(self, event):
        if event.kind == "handover":
            return _("Handed over to %(to)s") % {"to": event.data.get("to", "")}
        return event.note or self.item_title(event)

    def item_link(self, event):
        return f"{self._link}#event-{event.pk}"

    def item_guid(self, event):
        return f"{self._link}#event-{event.pk}"

    def item_pubdate(self, event):
        return event.happened_at or event.created_at

    def item_updateddate(self, event):
        # Atom requires each entry's <updated>; Django writes it only from this.
        return event.created_at


def _bad_request(errors: dict) -> HttpResponse:
    """A 400 naming each parameter at fault."""
    lines = [
        f"{field}: {' '.join(messages)}" for field, messages in sorted(errors.items())
    ]
    return HttpResponse(
        "\n".join(lines) + "\n", status=400, content_type="text/plain; charset=utf-8"
    )


def _public_reports():
    return (
        Report.objects.public()
        .select_related("category", "municipality__site", "filed_on_site")
        .order_by("-confirmed_at", "-pk")
    )


def _feed_path(request) -> str:
    return _site_root(request) + request.get_full_path()


@rate_limited("feeds")
def kommun_feed(request, code: str, fmt: str):
    """``/flode/kommun/<code>.atom`` (or ``.rss``), ``?kategori=<slug>``."""
    municipality = get_object_or_404(Municipality, code=code)
    reports = _public_reports().filter(municipality=municipality)
    title = _("New reports in %(name)s") % {"name": municipality.name}
    slug = request.GET.get("kategori", "")
    if slug:
        category = Category.objects.filter(slug=slug).first()
        if category is None:
            return _bad_request({"kategori": [_("Unknown category.")]})
        reports = reports.filter(category=category)
        title = _("New reports of “%(category)s” in %(name)s") % {
            "category": category.name,
            "name": municipality.name,
        }
    root = root_url(municipality.site) if municipality.site_id else _site_root(request)
    feed = _ReportsFeed(
        feed_type=FORMATS[fmt],
        obj=list(reports[:FEED_ITEMS]),
        title=title,
        link=root + reverse("reports-map"),
        feed_url=_feed_path(request),
        description=title,
    )
    return feed(request)


@rate_limited("feeds")
def area_feed(request, fmt: str):
    """``/flode/omrade.atom?lat=…&lon=…&radie=<metres>`` (or ``.rss``)."""
    errors: dict = {}
    try:
        lat, lon = parse_point(request.GET.get("lat"), request.GET.get("lon"))
    except ValidationError as exc:
        errors.update(exc.message_dict)
    try:
        radius = radius_check(request.GET.get("radie", ""))
    except ValidationError as exc:
        errors["radie"] = exc.message_dict["radius"]
    if errors:
        return _bad_request(errors)
    candidates = area_filter(_public_reports(), lat=lat, lon=lon, radius_m=radius)
    reports = [
        r
        for r in candidates[: FEED_ITEMS * 4]
        if in_area(r, lat=lat, lon=lon, radius_m=radius)
    ][:FEED_ITEMS]
    title = _("New reports within %(radius)s of %(lat).5f, %(lon).5f") % {
        "radius": distance_text(radius),
        "lat": lat,
        "lon": lon,
    }
    feed = _ReportsFeed(
        feed_type=FORMATS[fmt],
        obj=reports,
        title=title,
        link=_site_root(request) + reverse("reports-map"),
        feed_url=_feed_path(request),
        description=title,
    )
    return feed(request)


@rate_limited("feeds")
def report_feed(request, pk: int, fmt: str):
    """``/flode/rapporter/<id>.atom`` (or ``.rss``): a public report's updates."""
    report = (
        Report.objects.public()
        .select_related("municipality__site", "filed_on_site")
        .filter(pk=pk)
        .first()
    )
    if report is None:
        raise Http404
    events = list(
        ReportEvent.objects.filter(
            report=report, is_public=True, kind__in=NOTIFIED_KINDS
        ).order_by("-created_at", "-pk")[:FEED_ITEMS]
    )
    title = _("Updates to “%(title)s”") % {"title": report.title}
    feed = _UpdatesFeed(
        feed_type=FORMATS[fmt],
        obj={"report": report, "events": events},
        title=title,
        link=report_public_url(report),
        feed_url=_feed_path(request),
        description=title,
    )
    return feed(request)
