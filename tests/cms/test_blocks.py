"""The blocks kommun editors build pages from (cms.blocks), and the news pages:
each block renders accessible HTML with its own kommun's data; bad input is
refused at the block, nothing published."""

import pytest
from django.core.cache import cache
from django.urls import reverse
from django.utils import timezone, translation
from wagtail.rich_text import RichText
from wagtail.test.utils.form_data import nested_form_data, rich_text, streamfield

from cms.blocks import highlights_key, statistics_highlights
from cms.models import ContentPage, NewsIndexPage, NewsPage
from municipalities.choices import StaffRole
from municipalities.models import Municipality, ServicePromise
from reports.choices import ReportStatus
from tests.support import factories
from tests.support.casework import LUND, MALMO, as_user, make_report
from tests.support.people import staff_user
from tests.support.photos import image_in

MALMO_HOST = "malmo.localhost"


def home_of(code):
    return Municipality.objects.get(code=code).site.root_page.specific


def every_block(image) -> list:
    return [
        ("text", RichText("<p>Så sköter vi gatorna.</p>")),
        (
            "image",
            {
                "image": {
                    "image": image,
                    "alt_text": "Gatlykta vid Stortorget",
                    "decorative": False,
                },
                "caption": "Stortorget i kvällsljus",
            },
        ),
        (
            "call_to_action",
            {
                "heading": "Ser du ett fel?",
                "text": "",
                "button_text": "Felanmäl här",
                "page": None,
                "url": "",
            },
        ),
        (
            "faq",
            {
                "heading": "Vanliga frågor",
                "questions": [
                    {
                        "question": "Hur snabbt lagas det?",
                        "answer": RichText("<p>Inom fem dagar.</p>"),
                    }
                ],
            },
        ),
        (
            "contact",
            {
                "heading": "Gatukontoret",
                "text": "",
                "phone": "040-34 10 00",
                "email": "gatukontoret@example.org",
                "address": "Box 1\n205 80 Malmö",
                "hours": "Vardagar 8–16",
            },
        ),
        ("reports_map", {"heading": "Felanmälningar på kartan"}),
        (
            "latest_reports",
            {
                "heading": "Senaste",
                "count": 5,
                "latitude": None,
                "longitude": None,
                "radius": 500,
            },
        ),
        ("service_promises", {"heading": "Våra servicelöften"}),
        ("statistics", {"heading": "Senaste året"}),
    ]


@pytest.mark.django_db
def test_every_block_renders_with_its_own_kommuns_data(client):
    ServicePromise.objects.create(
        municipality=Municipality.objects.get(code=MALMO),
        category=None,
        response_days=2,
        fix_days=7,
    )
    today = timezone.localdate()
    received = {"received_on": today, "received_month": today.replace(day=1)}
    make_report(MALMO, title="Hål i Amiralsgatan", **received)
    make_report(MALMO, title="Släckt lykta", status=ReportStatus.FIXED, **received)
    make_report(LUND, title="Lunds trasiga bänk", **received)
    make_report(MALMO, title="Dold anmälan", is_hidden=True, **received)
    malmo = Municipality.objects.get(code=MALMO)
    cache.delete(highlights_key(malmo, today))  # counted afresh for this test
    home_of(MALMO).add_child(
        instance=ContentPage(
            title="Gator och parker",
            slug="gator",
            body=every_block(image_in(MALMO, "lykta")),
        )
    )

    html = client.get("/gator/", HTTP_HOST=MALMO_HOST).content.decode()

    assert "Så sköter vi gatorna." in html
    assert 'alt="Gatlykta vid Stortorget"' in html and "<figcaption>" in html
    assert 'class="button" href="/rapportera/">Felanmäl här</a>' in html
    assert "<details>" in html and "<summary>Hur snabbt lagas det?</summary>" in html
    assert 'href="tel:040341000"' in html and "Box 1<br>205 80 Malmö" in html
    assert 'id="reports-map"' in html and "js/reports_map.js" in html
    # The kommun's own public reports only, in the latest reports and highlights.
    latest = html.split("block-reports")[1].split("</section>")[0]
    assert "Hål i Amiralsgatan" in latest and "Släckt lykta" in latest
    assert "Lunds trasiga bänk" not in html and "Dold anmälan" not in latest
    assert "promises-table" in html
    highlights = statistics_highlights(malmo)
    assert highlights["received"] == 3 and highlights["fixed"] == 1
    stats = html.split("block-statistics")[1]
    assert "<dd>3</dd>" in stats and "<dd>1</dd>" in stats


@pytest.mark.django_db
def test_the_nearby_list_shows_the_reports_within_its_radius_nearest_first(client):
    factories.report(title="Vid torget", point=(55.6060, 13.0008))
    factories.report(title="Lite längre bort", point=(55.6070, 13.0010))
    factories.report(title="Långt borta", point=(55.5800, 13.0500))
    home_of(MALMO).add_child(
        instance=ContentPage(
            title="Stortorget",
            slug="stortorget",
            body=[
                (
                    "latest_reports",
                    {
                        "heading": "Nära Stortorget",
                        "count": 5,
                        "latitude": 55.6059,
                        "longitude": 13.0007,
                        "radius": 300,
                    },
                )
            ],
        )
    )
    html = client.get("/stortorget/", HTTP_HOST=MALMO_HOST).content.decode()
    listed = html.split("block-reports")[1]
    assert listed.index("Vid torget") < listed.index("Lite längre bort")
    assert "Långt borta" not in listed


def page_form(**body):
    return nested_form_data(
        {
            "title": "Nyhet",
            "slug": "nyhet",
            "date": "2026-12-01",
            "summary": "Kort om nyheten.",
            "body": streamfield(list(body.items())),
            "action-publish": "action-publish",
        }
    )


@pytest.mark.django_db
def test_an_image_without_alt_text_is_refused_at_the_block_and_nothing_published(
    client,
):
    editor = staff_user("malmo-nyheter", MALMO, StaffRole.EDITOR)
    as_user(client, editor)
    news = home_of(MALMO).add_child(
        instance=NewsIndexPage(title="Nyheter", slug="nyheter")
    )
    image = image_in(MALMO, "snoplog")
    add = reverse("wagtailadmin_pages:add", args=["cms", "newspage", news.pk])
    image_block = {
        "image": {"image": image.pk, "alt_text": "", "decorative": ""},
        "caption": "",
    }

    with translation.override("en"):
        refused = client.post(
            add, page_form(image=image_block), HTTP_ACCEPT_LANGUAGE="en"
        )
    assert refused.status_code == 200
    assert not NewsPage.objects.exists()
    assert "alt text" in refused.content.decode().lower()

    image_block["image"]["alt_text"] = "En snöplog på Södra Förstadsgatan"
    published = client.post(
        add,
        nested_form_data(
            {
                "title": "Nyhet",
                "slug": "nyhet",
                "date": "2026-12-01",
                "summary": "Kort om nyheten.",
                "body": streamfield(
                    [
                        ("image", image_block),
                        ("reports_map", {"heading": "Kartan"}),
                        ("text", rich_text("<p>Snöröjningen har börjat.</p>")),
                    ]
                ),
                "action-publish": "action-publish",
            }
        ),
    )
    assert published.status_code == 302
    item = NewsPage.objects.get()
    assert item.live and item.has_map
    html = client.get("/nyheter/nyhet/", HTTP_HOST=MALMO_HOST).content.decode()
    assert 'alt="En snöplog på Södra Förstadsgatan"' in html
    # On the home page and in the news index.
    assert "/nyheter/nyhet/" in client.get("/", HTTP_HOST=MALMO_HOST).content.decode()
    assert (
        "Kort om nyheten."
        in client.get("/nyheter/", HTTP_HOST=MALMO_HOST).content.decode()
    )


@pytest.mark.django_db
def test_blocks_refuse_a_page_and_an_address_and_a_point_outside_sweden(client):
    editor = staff_user("malmo-block", MALMO, StaffRole.EDITOR)
    as_user(client, editor)
    add = reverse(
        "wagtailadmin_pages:add", args=["cms", "contentpage", home_of(MALMO).pk]
    )
    data = nested_form_data(
        {
            "title": "Sida",
            "slug": "sida",
            "body": streamfield(
                [
                    (
                        "call_to_action",
                        {
                            "heading": "Rapportera",
                            "text": "",
                            "button_text": "Gå",
                            "page": home_of(MALMO).pk,
                            "url": "https://example.org/",
                        },
                    ),
                    (
                        "latest_reports",
                        {
                            "heading": "Nära",
                            "count": "5",
                            "latitude": "48.85",
                            "longitude": "",
                            "radius": "500",
                        },
                    ),
                ]
            ),
            "action-publish": "action-publish",
        }
    )
    with translation.override("en"):
        refused = client.post(add, data, HTTP_ACCEPT_LANGUAGE="en")
    assert refused.status_code == 200
    assert not ContentPage.objects.filter(slug="sida").exists()
    html = refused.content.decode()
    for message in (
        "not both",
        "The place must lie in Sweden: a latitude from 55.14 to 69.06.",
        "latitude and longitude",
    ):
        assert message in html or message in html.replace("&#x27;", "'"), message


@pytest.mark.django_db
def test_the_news_index_pages_its_items_newest_first(client):
    news = home_of(LUND).add_child(
        instance=NewsIndexPage(title="Nyheter", slug="nyheter")
    )
    for day in range(1, 13):
        news.add_child(
            instance=NewsPage(
                title=f"Nyhet {day}",
                slug=f"nyhet-{day}",
                date=f"2026-11-{day:02d}",
                summary="…",
            )
        )
    first = client.get("/nyheter/", HTTP_HOST="lund.localhost").content.decode()
    assert first.index("Nyhet 12<") < first.index("Nyhet 3<")
    assert "Nyhet 2<" not in first and 'href="?sida=2"' in first
    second = client.get("/nyheter/?sida=2", HTTP_HOST="lund.localhost").content.decode()
    assert "Nyhet 2<" in second and "Nyhet 1<" in second and "Nyhet 12<" not in second
    assert client.get("/nyheter/?sida=x", HTTP_HOST="lund.localhost").status_code == 200
    # Lund's news never on Malmö's home page.
    assert "Nyhet 12" not in client.get("/", HTTP_HOST=MALMO_HOST).content.decode()
