"""The demo sites' content: home pages built of blocks, news with pictures
drawn at load time, and operational messages, for Malmö, Lund and the national
site, so that a new user sees living sites. Made once per site: what editors
change is kept."""

from __future__ import annotations

import datetime as dt
import io

from django.core.files.images import ImageFile
from django.utils import timezone
from PIL import Image, ImageDraw
from wagtail.images.models import Image as WagtailImage
from wagtail.models import Page
from wagtail.rich_text import RichText

from cms.models import NationalHomePage, NewsIndexPage, NewsPage
from cms.services import shared_collection_ensure
from municipalities.models import Category, District, Municipality, OperationalMessage

# The pictures drawn for the news: (title, sky, ground, sun) colours.
PICTURES = {
    "snow": ("Snöplog i gryningen", "#9fb8d0", "#f4f7fa", "#ffe8a3"),
    "park": ("Parken i kvällsljus", "#f2b880", "#4f7a3a", "#fff1b8"),
    "street": ("Nylagd asfalt", "#a9cbe8", "#4a4a4a", "#fff6d5"),
}


def picture(key: str, collection) -> WagtailImage:
    """A landscape drawn with Pillow: sky, ground and sun (no camera, so no
    metadata to strip), saved in ``collection``."""
    title, sky, ground, sun = PICTURES[key]
    existing = WagtailImage.objects.filter(title=title, collection=collection).first()
    if existing is not None:
        return existing
    canvas = Image.new("RGB", (1200, 675), sky)
    draw = ImageDraw.Draw(canvas)
    draw.ellipse((860, 80, 1020, 240), fill=sun)
    draw.polygon(
        [(0, 430), (400, 360), (800, 420), (1200, 350), (1200, 675), (0, 675)],
        fill=ground,
    )
    draw.rectangle((0, 560, 1200, 600), fill="#6b6b6b")
    buffer = io.BytesIO()
    canvas.save(buffer, "JPEG", quality=80)
    return WagtailImage.objects.create(
        title=title,
        file=ImageFile(buffer, name=f"demo-{key}.jpg"),
        collection=collection,
    )


def _figure(image: WagtailImage, alt: str, caption: str = "") -> tuple:
    return (
        "image",
        {
            "image": {"image": image, "alt_text": alt, "decorative": False},
            "caption": caption,
        },
    )


def _faq(*pairs) -> tuple:
    return (
        "faq",
        {
            "heading": "Vanliga frågor",
            "questions": [
                {"question": q, "answer": RichText(f"<p>{a}</p>")} for q, a in pairs
            ],
        },
    )


FAQ = (
    (
        "Vad kan jag felanmäla här?",
        "Fel på gator, cykelbanor, belysning, parker och lekplatser: allt som kommunen sköter utomhus.",
    ),
    (
        "Måste jag lämna namn?",
        "Nej, men med din e-postadress får du besked när felet är åtgärdat. Namnet visas aldrig offentligt om du inte själv väljer det.",
    ),
    (
        "Hur snabbt åtgärdas felet?",
        "Kommunen lovar en första återkoppling och en åtgärd inom ett visst antal arbetsdagar: se servicelöftena.",
    ),
)


def _home_body(name: str, image: WagtailImage | None) -> list:
    body = [
        (
            "text",
            RichText(
                f"<p>Välkommen till {name}s felanmälan. Här ser du vad som är anmält och vad som är åtgärdat.</p>"
            ),
        ),
        ("reports_map", {"heading": "Felanmälningar på kartan"}),
        ("service_promises", {"heading": "Våra servicelöften"}),
        ("statistics", {"heading": "Det senaste året"}),
        _faq(*FAQ),
    ]
    if image is not None:
        body.insert(
            1,
            _figure(
                image,
                "Snöplog som röjer en gata i gryningen",
                "Vinterväghållningen är i gång.",
            ),
        )
    return body


NEWS = {
    "1280": [
        (
            "snow",
            2,
            "Vinterväghållningen har börjat",
            "Snöröjningen sker enligt plan: först huvudgator och busslinjer, sedan cykelbanor och bostadsgator.",
        ),
        (
            "park",
            12,
            "Ny belysning i Pildammsparken",
            "Gångvägarna i Pildammsparken har fått ny, energisnål belysning.",
        ),
        (
            "street",
            30,
            "Asfaltering på Amiralsgatan klar",
            "Arbetet med ny beläggning på Amiralsgatan är klart, en vecka före plan.",
        ),
    ],
    "1281": [
        (
            "park",
            5,
            "Lekplatsen i Stadsparken renoverad",
            "Lekplatsen har fått nya gungor och tillgänglig gummiasfalt.",
        ),
        (
            "street",
            20,
            "Färre trasiga gatlyktor",
            "Tack vare era felanmälningar lagas gatlyktor nu inom fem arbetsdagar.",
        ),
    ],
    None: [
        (
            "street",
            3,
            "Fler kommuner tar emot felanmälningar",
            "Knutpunkt tar nu emot felanmälningar för fem kommuner, och fler ansluter under året.",
        ),
    ],
}


def _news(home: Page, key, collection) -> None:
    index = NewsIndexPage.objects.child_of(home).first()
    if index is None:
        index = home.add_child(
            instance=NewsIndexPage(
                title="Nyheter",
                slug="nyheter",
                show_in_menus=True,
                intro="<p>Nytt om gator, parker och felanmälan.</p>",
            )
        )
    today = timezone.localdate()
    for picture_key, days_ago, title, summary in NEWS[key]:
        if NewsPage.objects.child_of(index).filter(title=title).exists():
            continue
        image = picture(picture_key, collection)
        index.add_child(
            instance=NewsPage(
                title=title,
                date=today - dt.timedelta(days=days_ago),
                summary=summary,
                body=[
                    _figure(image, PICTURES[picture_key][0]),
                    (
                        "text",
                        RichText(
                            f"<p>{summary}</p><p>Ser du något som inte fungerar? Felanmäl det, så tar vi hand om det.</p>"
                        ),
                    ),
                    (
                        "call_to_action",
                        {
                            "heading": "Ser du ett fel?",
                            "text": "",
                            "button_text": "Felanmäl",
                            "page": None,
                            "url": "",
                        },
                    ),
                ],
            )
        )


def _messages(municipality: Municipality) -> None:
    if OperationalMessage.objects.filter(municipality=municipality).exists():
        return
    now = timezone.now()
    if municipality.code == "1280":
        OperationalMessage.objects.create(
            municipality=municipality,
            title="Vinterväghållning pågår i hela kommunen",
            text="Snöröjningen sker enligt plan: huvudgator och busslinjer först, sedan cykelbanor och bostadsgator.",
            starts_at=now - dt.timedelta(hours=6),
            ends_at=now + dt.timedelta(days=3),
        )
    elif municipality.code == "1281":
        lights = OperationalMessage.objects.create(
            municipality=municipality,
            title="Gatlyktor släckta i Centrum",
            text="Ett kabelfel har släckt gatlyktorna i Centrum. Felet är känt och lagas i veckan.",
            starts_at=now - dt.timedelta(hours=2),
            ends_at=now + dt.timedelta(days=5),
            district=District.objects.filter(
                municipality=municipality, name="Centrum"
            ).first(),
            mark_known=True,
        )
        lights.categories.set(Category.objects.filter(slug="gatubelysning"))


def demo_content_ensure() -> None:
    """Home pages, news and messages for Malmö, Lund and the national site."""
    for municipality in Municipality.objects.filter(
        code__in=("1280", "1281")
    ).select_related("site", "collection"):
        home = municipality.site.root_page.specific
        if not home.body:
            image = (
                picture("snow", municipality.collection)
                if municipality.code == "1280"
                else None
            )
            home.body = _home_body(municipality.name, image)
            home.save_revision().publish()
        _news(home, municipality.code, municipality.collection)
        _messages(municipality)
    national = NationalHomePage.objects.first()
    if national is not None:
        if not national.body:
            national.body = [
                (
                    "text",
                    RichText(
                        "<p>Sätt en nål på kartan där felet är, så hittar Knutpunkt rätt kommun och rätt förvaltning åt dig.</p>"
                    ),
                ),
                ("statistics", {"heading": "Hela landet det senaste året"}),
                _faq(*FAQ),
            ]
            national.save_revision().publish()
        _news(national, None, shared_collection_ensure())
