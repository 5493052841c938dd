"""Small factories: the few rows a test needs, made through the platform's own
services where it has them, so that a test reads as the situation it sets up.

Every test database holds the country's geography (the 290 kommuner and their
packaged boundaries, as every instance does) and the small world of
:func:`small_world`: the national site, the standard categories, and Malmö and
Lund taking reports, each with its own site. Anything more (another kommun's
site, categories, reports; staff in people.py; case-system connections in
casehub.py) a test makes itself.
The demo data (``load_demo``) is for people trying the product, not for tests.
"""

from __future__ import annotations

from django.utils import timezone
from wagtail.models import Site

from cms.services import municipality_ensure_site, national_site_ensure
from municipalities.models import (
    Category,
    CategoryQuestion,
    Municipality,
    Route,
)
from municipalities.services import (
    boundaries_ensure_packaged,
    categories_ensure_standard,
    municipality_join,
)
from reports.choices import ReportStatus
from reports.models import Report

# Sites answer at <kommun slug>.localhost, the national one at localhost.
DOMAIN, PORT = "localhost", 80

MALMO_CODE, LUND_CODE = "1280", "1281"
STORTORGET_MALMO = (55.6059, 13.0007)


def geography() -> None:
    """The 290 kommuner with their packaged boundaries (reference data)."""
    boundaries_ensure_packaged()


def national_site() -> Site:
    return national_site_ensure(domain=DOMAIN, port=PORT)


def kommun(code: str = MALMO_CODE, *, joined: bool = True) -> Municipality:
    """Kommun ``code`` with its own site at ``<slug>.localhost`` and, when
    ``joined``, taking reports: its own body handles every standard category."""
    municipality = Municipality.objects.get(code=code)
    municipality_ensure_site(municipality=municipality, domain=DOMAIN, port=PORT)
    if joined:
        categories_ensure_standard()
        municipality_join(municipality=municipality)
    return municipality


def small_world() -> None:
    """What every test database holds besides the geography."""
    national_site()
    categories_ensure_standard()
    kommun(MALMO_CODE)
    kommun(LUND_CODE)


def category(slug: str = "gatubelysning") -> Category:
    """One of the standard categories."""
    return Category.objects.get(slug=slug)


def lamp_questions(*, choice_required: bool = True) -> Category:
    """The street-light category with two extra questions: a required text
    (the post's number, ``stolpe``) and a choice (what is wrong, ``fel``)."""
    lamp = category("gatubelysning")
    CategoryQuestion.objects.create(
        category=lamp, code="stolpe", label="Stolpnummer", kind="text", required=True
    )
    CategoryQuestion.objects.create(
        category=lamp,
        code="fel",
        label="Vad är fel?",
        kind="single",
        choices=["Släckt", "Blinkar"],
        required=choice_required,
    )
    return lamp


def report(
    *,
    code: str = MALMO_CODE,
    category_slug: str = "gatubelysning",
    point: tuple[float, float] = STORTORGET_MALMO,
    confirmed: bool = True,
    **fields,
) -> Report:
    """A report row in kommun ``code``, routed as the kommun routes its category
    (made directly: no delivery, no events; use ``report_submit`` for those)."""
    municipality = Municipality.objects.get(code=code)
    chosen = category(category_slug)
    routed = Route.objects.filter(municipality=municipality, category=chosen).first()
    if routed is None and "body" not in fields:
        raise ValueError(f"{municipality} has no route for {chosen}; give a body")
    values = {
        "lat": point[0],
        "lon": point[1],
        "municipality": municipality,
        "category": chosen,
        "body": routed.body if routed else None,  # else given in fields
        "title": "Trasig gatlykta",
        "description": "Lyktan är släckt.",
        "name": "Anna Andersson",
        "email": "anna@example.org",
        "status": ReportStatus.OPEN,
        "confirmed_at": timezone.now() if confirmed else None,
        **fields,
    }
    return Report.objects.create(**values)
