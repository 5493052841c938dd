"""A moment shown to a person: Stockholm time, in the language's own form, the
same on public pages, in e-mails and in the admin (infra.moments)."""

from datetime import UTC, datetime

import pytest
from django.utils import timezone, translation
from wagtail.users.models import UserProfile

from casehub.models import Delivery
from infra.moments import moment_format
from municipalities.choices import BodyKind, ConnectionKind
from municipalities.models import Body, Connection
from reports.choices import EventKind, ReportStatus
from reports.events import Actor, event_new
from reports.models import Report, Subscription
from reports.notifications import followers_notify
from tests.support import factories
from tests.support.people import superuser
from tests.test_i18n import swedish_default  # noqa: F401  (the fixture)

# Half past eleven in the evening in UTC: already the next day in Stockholm.
LATE_IN_WINTER = datetime(2026, 12, 6, 23, 30, tzinfo=UTC)
LATE_IN_SUMMER = datetime(2026, 6, 30, 23, 30, tzinfo=UTC)


@pytest.mark.parametrize(
    ("language", "moment", "with_time", "shown"),
    [
        ("sv", LATE_IN_WINTER, True, "7 december 2026 00:30"),
        ("sv", LATE_IN_SUMMER, True, "1 juli 2026 01:30"),
        ("sv", LATE_IN_WINTER, False, "7 december 2026"),
        ("en", LATE_IN_WINTER, True, "Dec. 7, 2026, 12:30 a.m."),
        ("en", LATE_IN_SUMMER, False, "July 1, 2026"),
    ],
)
def test_a_moment_is_stockholm_time_in_the_languages_form(
    language, moment, with_time, shown
):
    # Whatever zone is active (a worker, a staff member's profile), Stockholm.
    with translation.override(language), timezone.override("UTC"):
        assert moment_format(moment, with_time=with_time) == shown


def test_no_moment_shows_nothing():
    assert moment_format(None) == ""


def _late_report(**fields) -> Report:
    report = factories.report(title="Sen lykta", **fields)
    Report.objects.filter(pk=report.pk).update(created_at=LATE_IN_WINTER)
    report.refresh_from_db()
    return report


@pytest.mark.django_db
@pytest.mark.usefixtures("swedish_default")
def test_public_pages_show_stockholm_time_in_each_language(client):
    report = _late_report()
    swedish = client.get(f"/rapporter/{report.pk}/").content.decode()
    assert "7 december 2026 00:30" in swedish
    assert 'datetime="2026-12-07T00:30:00+01:00"' in swedish
    english = client.get(f"/en/rapporter/{report.pk}/").content.decode()
    assert "Dec. 7, 2026, 12:30 a.m." in english
    listing = client.get("/rapporter/").content.decode()
    assert "Sen lykta" in listing
    assert ">7 december 2026</time>" in listing
    assert "6 dec" not in listing and "Dec" not in listing


@pytest.mark.django_db
def test_an_email_shows_stockholm_time_in_the_reporters_language(mailoutbox):
    report = _late_report(language="sv")
    Subscription.objects.create(
        report=report, email="foljare@example.org", confirmed_at=timezone.now()
    )
    event_new(
        report=report,
        actor=Actor.system(),
        kind=EventKind.STATUS,
        status=ReportStatus.IN_PROGRESS,
        happened_at=LATE_IN_WINTER,
    ).save()
    # Rendered outside any request, with another zone active in the process.
    with timezone.override("UTC"):
        assert followers_notify(report.pk) == 1
    (mail,) = mailoutbox
    assert "7 december 2026 00:30: Ny status – Pågår" in mail.body
    assert "23:30" not in mail.body


@pytest.mark.django_db
@pytest.mark.usefixtures("swedish_default")
def test_admin_columns_and_details_show_stockholm_time(client):
    body = Body.objects.get(municipalities__code="1280", kind=BodyKind.MUNICIPAL)
    connection = Connection.objects.create(
        body=body,
        name="Gatukontorets system",
        kind=ConnectionKind.WEBHOOK,
        endpoint="https://cases.example.org/hook",
        last_success_at=LATE_IN_WINTER,
    )
    delivery = Delivery.objects.create(
        report=_late_report(),
        connection=connection,
        next_attempt_at=LATE_IN_WINTER,
        queued_at=LATE_IN_WINTER,
    )
    client.force_login(superuser())
    listing = client.get("/admin/connections/").content.decode()
    assert "7 december 2026 00:30" in listing
    detail = client.get(f"/admin/deliveries/{delivery.pk}/").content.decode()
    assert detail.count("7 december 2026 00:30") == 2  # queued, next attempt
    assert "23:30" not in detail and "+00:00" not in detail


@pytest.mark.django_db
@pytest.mark.usefixtures("swedish_default")
def test_staff_cannot_choose_another_time_zone(client):
    client.force_login(superuser())
    page = client.get("/admin/account/").content.decode()
    assert "current_time_zone" not in page


@pytest.mark.django_db
@pytest.mark.usefixtures("swedish_default")
def test_staff_who_choose_english_read_english_dates(client):
    body = Body.objects.get(municipalities__code="1280", kind=BodyKind.MUNICIPAL)
    Connection.objects.create(
        body=body,
        name="Gatukontorets system",
        kind=ConnectionKind.WEBHOOK,
        endpoint="https://cases.example.org/hook",
        last_success_at=LATE_IN_WINTER,
    )
    user = superuser()
    profile = UserProfile.get_for_user(user)
    profile.preferred_language = "en"
    profile.save()
    client.force_login(user)
    listing = client.get("/admin/connections/").content.decode()
    assert "Dec. 7, 2026, 12:30 a.m." in listing
    assert "Last success" in listing and "Senast lyckad" not in listing
