"""Citizens' updates on a report: the reporter (signed in, or by the Mina sidor
link's session) and signed-in followers add text and a photo to the timeline,
the reporter can say it is fixed; everyone else is refused; the photo is
checked and stripped as a report's; followers hear of it by e-mail."""

import io

import pytest
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.test import Client
from django.utils import timezone
from PIL import Image

from infra.asgi import BodyLimitMiddleware
from reports.choices import ActorKind, EventKind, ReportStatus
from reports.models import Report, ReportEvent, ReportPhoto, Subscription
from reports.my_reports import SESSION_KEY
from tests.support.casehub import confirmed_report, reporter_user
from tests.support.photos import jpeg

pytestmark = pytest.mark.django_db

EN = {"HTTP_ACCEPT_LANGUAGE": "en"}


@pytest.fixture(autouse=True)
def _no_rate_limits_between_tests():
    cache.clear()


def update_path(report) -> str:
    return f"/rapporter/uppdatera/{report.pk}/"


def photo_with_gps():
    """A JPEG whose EXIF says where it was taken."""
    image = Image.new("RGB", (640, 480), (200, 120, 40))
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"
    exif[0x8825] = {1: "N", 2: (55.0, 36.0, 18.0)}
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", exif=exif.tobytes())
    buffer.seek(0)
    buffer.name = "lampa.jpg"
    return buffer


def test_the_reporter_adds_text_and_a_photo_and_it_is_on_the_timeline(
    client, django_capture_on_commit_callbacks
):
    report = confirmed_report()
    client.force_login(reporter_user())
    page = client.get(report.get_absolute_url()).content.decode()
    assert f'action="{update_path(report)}"' in page and 'name="fixed"' in page
    with django_capture_on_commit_callbacks(execute=True):
        answer = client.post(
            update_path(report),
            {"text": "Nu lyser den inte alls.", "photo": photo_with_gps()},
        )
    assert answer.status_code == 302
    event = ReportEvent.objects.get(report=report, kind=EventKind.UPDATE)
    assert (event.actor_kind, event.actor_user) == (ActorKind.REPORTER, reporter_user())
    assert event.note == "Nu lyser den inte alls." and event.data["by"] == "reporter"
    (photo,) = ReportPhoto.objects.filter(event=event)
    stored = Image.open(photo.image.open("rb"))
    assert not stored.getexif()  # location and camera gone
    assert event.data["photos"][0]["thumbnail"] == photo.thumbnail.url
    report.refresh_from_db()
    assert report.status == ReportStatus.OPEN
    page = client.get(report.get_absolute_url()).content.decode()
    assert "Nu lyser den inte alls." in page and photo.thumbnail.url in page
    # The update's photo is the update's, not among the report's own.
    assert page.count(photo.thumbnail.url) == 1


def test_the_reporter_says_it_is_fixed(client, django_capture_on_commit_callbacks):
    report = confirmed_report()
    client.force_login(reporter_user())
    with django_capture_on_commit_callbacks(execute=True):
        answer = client.post(update_path(report), {"fixed": "on"})
    assert answer.status_code == 302
    report.refresh_from_db()
    assert report.status == ReportStatus.FIXED and report.fixed_at is not None
    event = ReportEvent.objects.filter(report=report).latest("pk")
    assert (event.kind, event.status, event.actor_kind) == (
        EventKind.STATUS,
        ReportStatus.FIXED,
        ActorKind.REPORTER,
    )
    assert event.data["by_reporter"] is True
    page = client.get(report.get_absolute_url(), **EN).content.decode()
    assert "fixed-by-reporter" in page


def test_the_mina_sidor_session_of_the_reporters_address_may_add_updates(client):
    report = confirmed_report()
    session = client.session
    session[SESSION_KEY] = "anna@example.org"
    session.save()
    assert (
        client.post(update_path(report), {"text": "Fortfarande trasig."}).status_code
        == 302
    )
    event = ReportEvent.objects.get(report=report, kind=EventKind.UPDATE)
    assert event.actor_kind == ActorKind.REPORTER and event.actor_user is None


def test_a_signed_in_follower_adds_an_update_but_cannot_say_it_is_fixed(client):
    report = confirmed_report()
    neighbour = get_user_model().objects.create(
        username="granne", email="granne@example.org"
    )
    Subscription.objects.create(
        report=report,
        email="granne@example.org",
        user=neighbour,
        confirmed_at=timezone.now(),
    )
    client.force_login(neighbour)
    page = client.get(report.get_absolute_url()).content.decode()
    assert f'action="{update_path(report)}"' in page and 'name="fixed"' not in page
    refused = client.post(update_path(report), {"text": "Hm", "fixed": "on"})
    assert refused.status_code == 400
    assert "Only the reporter can say that it is fixed." in refused.content.decode()
    report.refresh_from_db()
    assert report.status == ReportStatus.OPEN
    assert (
        client.post(update_path(report), {"text": "Jag ser det också."}).status_code
        == 302
    )
    event = ReportEvent.objects.get(report=report, kind=EventKind.UPDATE)
    assert (event.actor_kind, event.data["by"]) == (ActorKind.FOLLOWER, "follower")


def test_strangers_and_unconfirmed_followers_are_refused(client):
    report = confirmed_report()
    stranger = get_user_model().objects.create(username="x", email="x@example.org")
    Subscription.objects.create(report=report, email="x@example.org", user=stranger)
    assert (
        Client()
        .get(report.get_absolute_url())
        .content.decode()
        .count(update_path(report))
        == 0
    )
    assert Client().post(update_path(report), {"text": "Hej"}).status_code == 403
    client.force_login(stranger)  # follows, but never confirmed it
    assert client.post(update_path(report), {"text": "Hej"}).status_code == 403
    # Another Mina sidor address is not the reporter's.
    other = Client()
    session = other.session
    session[SESSION_KEY] = "someone@example.org"
    session.save()
    assert other.post(update_path(report), {"text": "Hej"}).status_code == 403
    assert not ReportEvent.objects.filter(report=report, kind=EventKind.UPDATE).exists()


def test_bad_input_is_shown_at_its_field_and_nothing_is_written(client):
    report = confirmed_report()
    client.force_login(reporter_user())
    empty = client.post(update_path(report), {"text": "  "})
    assert empty.status_code == 400 and 'aria-invalid="true"' in empty.content.decode()
    too_long = client.post(update_path(report), {"text": "x" * 2001})
    assert too_long.status_code == 400
    not_a_photo = io.BytesIO(b"%PDF-1.4 not an image")
    not_a_photo.name = "lampa.jpg"
    refused = client.post(update_path(report), {"text": "Bild", "photo": not_a_photo})
    assert refused.status_code == 400
    page = refused.content.decode()
    assert 'id="id_photo_error"' in page and "Bild" in page  # the text is kept
    assert not ReportEvent.objects.filter(report=report, kind=EventKind.UPDATE).exists()
    assert ReportPhoto.objects.filter(report=report).count() == 0


def test_updates_need_csrf_and_are_rate_limited(settings):
    report = confirmed_report()
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(reporter_user())
    assert strict.post(update_path(report), {"text": "Hej"}).status_code == 403
    settings.KNUTPUNKT_RATE_LIMITS = {
        **settings.KNUTPUNKT_RATE_LIMITS,
        "report_update": (2, 3600),
    }
    client = Client()
    client.force_login(reporter_user())
    codes = [
        client.post(update_path(report), {"text": f"Nummer {n}"}).status_code
        for n in range(3)
    ]
    assert codes == [302, 302, 429]


def test_followers_are_emailed_the_update(
    smtp_server, django_capture_on_commit_callbacks
):
    report = confirmed_report()
    client = Client()
    client.force_login(reporter_user())
    with django_capture_on_commit_callbacks(execute=True):
        client.post(update_path(report), {"text": "Stolpen lutar också."})
    (mail,) = smtp_server.bodies_to("anna@example.org")
    assert "Stolpen lutar också." in mail


def test_a_jpeg_upload_of_the_support_kind_is_taken(client):
    report = confirmed_report()
    client.force_login(reporter_user())
    assert client.post(update_path(report), {"photo": jpeg()}).status_code == 302
    assert ReportPhoto.objects.filter(report=report, event__isnull=False).count() == 1


def test_the_update_form_may_carry_a_photo_past_the_default_body_cap(settings):
    middleware = BodyLimitMiddleware(
        None,
        limits=settings.KNUTPUNKT_BODY_LIMITS,
        default=settings.KNUTPUNKT_BODY_LIMIT_DEFAULT,
    )
    cap = middleware.limit_for("/rapporter/uppdatera/7/")
    assert (
        settings.KNUTPUNKT_PHOTO_MAX_BYTES
        < cap
        < 2 * settings.KNUTPUNKT_PHOTO_MAX_BYTES
    )
    assert (
        middleware.limit_for("/rapporter/7/folj/")
        == settings.KNUTPUNKT_BODY_LIMIT_DEFAULT
    )


def test_a_duplicate_cannot_be_said_fixed(client):
    report = confirmed_report()
    Report.objects.filter(pk=report.pk).update(status=ReportStatus.DUPLICATE)
    client.force_login(reporter_user())
    assert 'name="fixed"' not in client.get(report.get_absolute_url()).content.decode()
    refused = client.post(update_path(report), {"text": "Lagad?", "fixed": "on"})
    assert refused.status_code == 400
    assert "cannot be marked fixed" in refused.content.decode()
    report.refresh_from_db()
    assert report.status == ReportStatus.DUPLICATE
    assert not ReportEvent.objects.filter(report=report, kind=EventKind.UPDATE).exists()
