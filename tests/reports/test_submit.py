import random
import re
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from reports.choices import ReportStatus
from reports.models import EmailToken, Report, ReportEvent, Subscription
from tests.support import factories
from tests.support.people import citizen
from tests.support.photos import jpeg, png_claiming

MALMO = {"lat": "55.6059", "lon": "13.0007"}
KIRUNA = {"lat": "67.8557", "lon": "20.2253"}


def form(**overrides):
    data = {
        **MALMO,
        "category": "gatubelysning",
        "title": "Trasig gatlykta",
        "description": "Lyktan vid busshållplatsen är släckt sedan en vecka.",
        "name": "Anna Andersson",
        "email": "anna@example.org",
        "phone": "070-123 45 67",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


@pytest.fixture
def commit(django_capture_on_commit_callbacks):
    """Run what a request queues for after commit (the tests' transaction never
    commits), as it runs in production."""

    def run(call, *args, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return call(*args, **kwargs)

    return run


def confirm_link(smtp_server, address="anna@example.org") -> str:
    (body,) = smtp_server.bodies_to(address)
    return re.search(r"https?://\S+/bekrafta/\S+/", body).group(0)


@pytest.mark.django_db
def test_anonymous_report_is_confirmed_by_the_emailed_link(client, smtp_server, commit):
    response = commit(client.post, "/rapportera/", form(photos=[jpeg()]))
    assert response.status_code == 302
    assert response["Location"] == "/rapportera/tack/"
    report = Report.objects.get(email="anna@example.org")
    assert report.status == ReportStatus.UNCONFIRMED
    assert report.municipality.code == "1280"
    assert report.body.name == "Malmö kommun"
    assert report.photos.count() == 1
    assert client.get(report.get_absolute_url()).status_code == 404
    assert not Report.objects.public().filter(pk=report.pk).exists()

    link = confirm_link(smtp_server)
    path = link.split("localhost", 1)[1]
    assert client.get(path).status_code == 200  # a page with a button, not yet used
    response = client.post(path)
    assert response.status_code == 302
    report.refresh_from_db()
    assert report.status == ReportStatus.OPEN and report.confirmed_at
    assert ReportEvent.objects.filter(report=report, kind="confirmed").count() == 1
    assert Subscription.objects.get(report=report).confirmed_at
    page = client.get(report.get_absolute_url()).content.decode()
    assert "Trasig gatlykta" in page and "Malmö kommun" in page
    # Single use: opened again, the link takes the reporter to the report,
    # confirmed once (no second event), and says so.
    for again in (client.get(path, follow=True), client.post(path, follow=True)):
        assert again.redirect_chain[-1][0] == report.get_absolute_url()
        assert "This report is confirmed already." in again.content.decode()
    assert ReportEvent.objects.filter(report=report, kind="confirmed").count() == 1


@pytest.mark.django_db
def test_expired_link_does_not_confirm(client, smtp_server, commit):
    commit(client.post, "/rapportera/", form())
    EmailToken.objects.update(expires_at=timezone.now() - timedelta(minutes=1))
    path = confirm_link(smtp_server).split("localhost", 1)[1]
    assert client.post(path).status_code == 410
    assert Report.objects.get().status == ReportStatus.UNCONFIRMED


@pytest.mark.django_db
def test_logged_in_users_report_is_confirmed_at_once(client, smtp_server, commit):
    user = citizen()
    client.force_login(user)
    response = commit(client.post, "/rapportera/", form(email=user.email))
    report = Report.objects.get()
    assert response["Location"] == report.get_absolute_url()
    assert report.status == ReportStatus.OPEN and report.reporter == user
    assert smtp_server.messages == []
    assert client.get(report.get_absolute_url()).status_code == 200


@pytest.mark.django_db
def test_point_outside_sweden_is_refused_and_the_text_kept(client):
    response = client.post("/rapportera/", form(lat="59.91", lon="10.75"))
    assert response.status_code == 400
    page = response.content.decode()
    assert "outside Sweden" in page
    assert "Lyktan vid busshållplatsen är släckt sedan en vecka." in page
    assert 'value="Trasig gatlykta"' in page
    assert not Report.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize("point", [{"lat": "", "lon": ""}, {"lat": "x", "lon": "13"}])
def test_missing_or_malformed_point_asks_for_a_pin(client, point):
    response = client.post("/rapportera/", form(**point))
    assert response.status_code == 400
    assert "Put a pin on the map" in response.content.decode()
    assert "anna@example.org" in response.content.decode()


@pytest.mark.django_db
def test_kommun_category_in_a_non_participating_kommun_is_refused(client):
    response = client.post("/rapportera/", form(**KIRUNA))
    assert response.status_code == 400
    assert "is not handled at this place" in response.content.decode()


@pytest.mark.django_db
def test_state_road_category_is_taken_everywhere(client, smtp_server):
    response = client.post(
        "/rapportera/", form(**KIRUNA, category="vagar-riksvagartrafikverket")
    )
    assert response.status_code == 302
    report = Report.objects.get()
    assert (report.municipality.code, report.body.name) == ("2584", "Trafikverket")


@pytest.mark.django_db
def test_a_file_that_is_not_an_image_is_named_and_nothing_else_lost(client):
    fake = SimpleUploadedFile("lykta.jpg", b"not really a picture", "image/jpeg")
    response = client.post("/rapportera/", form(photos=[jpeg(), fake]))
    assert response.status_code == 400
    page = response.content.decode()
    assert "lykta.jpg" in page
    assert "Lyktan vid busshållplatsen" in page and 'value="Anna Andersson"' in page
    assert not Report.objects.exists()


@pytest.mark.django_db
def test_photos_with_too_many_pixels_together_are_refused_and_the_form_kept(
    client, settings
):
    settings.KNUTPUNKT_PHOTO_MAX_PIXELS_PER_REQUEST = 60_000_000
    photos = [png_claiming(f"{n}.png", 7000, 7000) for n in (1, 2)]
    response = client.post("/rapportera/", form(photos=photos))
    assert response.status_code == 400
    page = response.content.decode()
    assert "Together the photos have too many pixels (98 megapixels" in page
    assert "Lyktan vid busshållplatsen" in page and 'value="Anna Andersson"' in page
    assert not Report.objects.exists()


@pytest.mark.django_db
def test_more_than_three_photos_are_refused(client):
    photos = [jpeg(f"{i}.jpg") for i in range(4)]
    response = client.post("/rapportera/", form(photos=photos))
    assert response.status_code == 400
    assert "At most 3 photos" in response.content.decode()


@pytest.mark.django_db
def test_description_is_capped_at_4000_characters(client):
    response = client.post("/rapportera/", form(description="x" * 4001))
    assert response.status_code == 400
    assert not Report.objects.exists()
    assert client.post("/rapportera/", form(description="x" * 4000)).status_code == 302


@pytest.mark.django_db
def test_json_clients_get_field_errors_and_a_redirect(client):
    bad = client.post(
        "/rapportera/", form(email="nope"), HTTP_ACCEPT="application/json"
    )
    assert bad.status_code == 400
    assert set(bad.json()["errors"]) == {"email"}
    good = client.post("/rapportera/", form(), HTTP_ACCEPT="application/json")
    assert good.status_code == 201
    assert good.json() == {"ok": True, "redirect": "/rapportera/tack/"}


@pytest.mark.django_db
def test_html_in_text_is_shown_as_text(client):
    user = citizen()
    client.force_login(user)
    client.post(
        "/rapportera/",
        form(
            title="<script>alert(1)</script>", description="<b>fet</b>", name="<i>x</i>"
        ),
    )
    page = client.get(Report.objects.get().get_absolute_url()).content.decode()
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "<b>fet</b>" not in page


@pytest.mark.django_db
def test_reporters_contact_details_are_not_public_and_name_only_by_choice(client):
    user = citizen()
    client.force_login(user)
    client.post("/rapportera/", form(email=user.email))
    client.post("/rapportera/", form(email=user.email, show_name="on", title="Andra"))
    hidden, shown = Report.objects.order_by("pk")
    client.logout()
    hidden_page = client.get(hidden.get_absolute_url()).content.decode()
    shown_page = client.get(shown.get_absolute_url()).content.decode()
    for page in (hidden_page, shown_page):
        assert user.email not in page and "070-123 45 67" not in page
    assert "Anna Andersson" not in hidden_page
    assert "Anna Andersson" in shown_page


@pytest.mark.django_db
def test_category_questions_are_required_and_stored(client):
    factories.lamp_questions(choice_required=False)
    missing = client.post("/rapportera/", form(), HTTP_ACCEPT="application/json")
    assert missing.status_code == 400
    # The error is the question's, and names it.
    assert missing.json()["errors"] == {
        "q_gatubelysning_stolpe": [
            {"message": "Answer the question “Stolpnummer”.", "code": "invalid"}
        ]
    }
    wrong = client.post(
        "/rapportera/",
        form(q_gatubelysning_stolpe="A12", q_gatubelysning_fel="Trasig"),
        HTTP_ACCEPT="application/json",
    )
    assert wrong.status_code == 400
    assert wrong.json()["errors"] == {
        "q_gatubelysning_fel": [
            {
                "message": "Answer the question “Vad är fel?”: Choose one of the "
                "options.",
                "code": "invalid",
            }
        ]
    }
    ok = client.post(
        "/rapportera/",
        form(q_gatubelysning_stolpe="A12", q_gatubelysning_fel="Blinkar"),
        HTTP_ACCEPT="application/json",
    )
    assert ok.status_code == 201
    assert Report.objects.get().extra == {"stolpe": "A12", "fel": "Blinkar"}


@pytest.mark.django_db
def test_categories_at_a_point_name_the_kommun_and_group_by_body(client):
    malmo = client.get("/rapportera/kategorier/", MALMO).content.decode()
    assert "<strong>Malmö</strong>" in malmo
    assert "Malmö kommun" in malmo and "Trafikverket" in malmo
    assert 'value="gatubelysning"' in malmo
    kiruna = client.get("/rapportera/kategorier/", KIRUNA).content.decode()
    assert "does not take reports through Knutpunkt" in kiruna
    assert 'value="gatubelysning"' not in kiruna
    assert 'value="vagar-riksvagartrafikverket"' in kiruna
    oslo = client.get("/rapportera/kategorier/", {"lat": "59.91", "lon": "10.75"})
    assert "outside Sweden" in oslo.content.decode()


@pytest.mark.django_db
def test_kommun_site_opens_the_form_on_its_own_area(client):
    page = client.get("/rapportera/", HTTP_HOST="malmo.localhost").content.decode()
    west, south, east, north = map(
        float, re.search(r'data-bounds="([^"]+)"', page).group(1).split(",")
    )
    assert west < 13.0007 < east and south < 55.6059 < north
    assert east - west < 1 and north - south < 1
    national = client.get("/rapportera/").content.decode()
    assert 'data-bounds="10.59,55.14,24.18,69.06"' in national


@pytest.mark.django_db
def test_anonymous_submissions_are_rate_limited_per_address(client, settings):
    settings.KNUTPUNKT_RATE_LIMITS = {
        **settings.KNUTPUNKT_RATE_LIMITS,
        "report_submit": (2, 86_400),
    }
    address = f"2001:db8::{random.getrandbits(32):x}"
    for _ in range(2):
        assert (
            client.post("/rapportera/", form(), REMOTE_ADDR=address).status_code == 302
        )
    limited = client.post("/rapportera/", form(), REMOTE_ADDR=address)
    assert limited.status_code == 429
    assert int(limited["Retry-After"]) > 0
    assert Report.objects.count() == 2
    # Showing the form is never limited.
    assert client.get("/rapportera/", REMOTE_ADDR=address).status_code == 200
