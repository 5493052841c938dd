"""The daily e-mail of overdue reports to each body's case handlers: what it
says and to whom, sent once a kommun-day however many processes claim it,
only on working days, and never a reporter's details."""

import datetime as dt
import zoneinfo

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.core.management import call_command
from django.utils import timezone, translation
from wagtail.users.models import UserProfile

from infra.moments import moment_format
from municipalities.choices import BodyKind, StaffRole
from municipalities.models import Body, Municipality, ServicePromise, WorkCalendar
from municipalities.services import staff_membership_grant
from municipalities.workdays import WorkingDays
from reports.milestones import milestones_rebuild
from reports.models import Report
from tests.support.casehub import confirmed_report
from tests.support.casework import LUND, MALMO, POINTS
from tests.support.people import PASSWORD
from workspace.digest_schedule import digest_claim, digests_claim_due
from workspace.models import DigestDay

STOCKHOLM = zoneinfo.ZoneInfo("Europe/Stockholm")
MONDAY = dt.date(2026, 12, 7)


def kommun(code):
    return Municipality.objects.get(code=code)


def handler(username, code, *, bodies=(), language=None, active=True):
    user = get_user_model().objects.create_user(
        username=username,
        email=f"{username}@example.org",
        password=PASSWORD,
        first_name=username.title(),
        is_active=active,
    )
    staff_membership_grant(
        user=user, municipality=kommun(code), role=StaffRole.CASE_HANDLER, bodies=bodies
    )
    if language:
        profile = UserProfile.get_for_user(user)
        profile.preferred_language = language
        profile.save()
    return user


def received(code, days_ago, *, title):
    """A report submitted through the services (reporter Anna Andersson,
    anna@example.org, 040-123456), received ``days_ago``."""
    report = confirmed_report(point=POINTS[code], title=title)
    when = timezone.now() - dt.timedelta(days=days_ago)
    Report.objects.filter(pk=report.pk).update(confirmed_at=when)
    milestones_rebuild([report.pk])
    report.refresh_from_db()
    return report


@pytest.fixture
def world():
    for code in (MALMO, LUND):
        ServicePromise.objects.create(
            municipality=kommun(code), response_days=2, fix_days=10
        )
    parks = Body.objects.create(
        name="Parkförvaltningen", slug="parkforvaltningen", kind=BodyKind.MUNICIPAL
    )
    parks.municipalities.add(kommun(MALMO))
    return {
        "late": received(MALMO, 30, title="Sen lykta & trasig"),
        "later": received(MALMO, 20, title="Nästan lika sen"),
        "fresh": received(MALMO, 0, title="Ny lykta"),
        "lund": received(LUND, 30, title="Sen lykta i Lund"),
        "sv": handler("sara", MALMO),
        "en": handler("eric", MALMO, language="en"),
        "parks": handler("petra", MALMO, bodies=[parks]),
        "gone": handler("gustav", MALMO, active=False),
        "lund_handler": handler("lena", LUND),
    }


def mails_to(address):
    return [m for m in mail.outbox if m.to == [address]]


@pytest.mark.django_db
def test_each_handler_gets_their_overdue_reports_with_links_in_their_language(
    world, settings, django_capture_on_commit_callbacks
):
    settings.WAGTAILADMIN_BASE_URL = "https://knutpunkt.example.se"
    with django_capture_on_commit_callbacks(execute=True):
        assert digest_claim(municipality_id=kommun(MALMO).pk, day=MONDAY)

    late, later = world["late"], world["later"]
    (swedish,) = mails_to("sara@example.org")
    assert swedish.subject == "2 försenade felanmälningar i Malmö"
    body = swedish.body
    assert body.startswith("Hej Sara!")
    # Oldest due first, each with its screen in the admin at the configured address.
    assert body.index(f"#{late.pk} Sen lykta & trasig") < body.index(
        f"#{later.pk} Nästan lika sen"
    )
    assert f"https://knutpunkt.example.se/admin/inbox/{late.pk}/" in body
    # The promise's last working day, in Swedish.
    with translation.override("sv"):
        last_day = moment_format(
            WorkingDays().last_day(late.response_due_at), with_time=False
        )
    assert f"Första svar skulle ha getts senast {last_day}." in body
    assert "https://knutpunkt.example.se/admin/inbox/?due=overdue" in body
    assert "Ny lykta" not in body
    # Another kommun's overdue report is never in it.
    assert "Sen lykta i Lund" not in body
    # No reporter's name, e-mail or phone.
    for secret in ("Anna", "Andersson", "anna@example.org", "040-123456"):
        assert secret not in body and secret not in swedish.subject

    (english,) = mails_to("eric@example.org")
    assert english.subject == "2 overdue reports in Malmö"
    assert english.body.startswith("Hello Eric,")

    # Nobody without overdue reports of their own, nobody inactive, nobody
    # of another kommun.
    assert mails_to("petra@example.org") == []
    assert mails_to("gustav@example.org") == []
    assert mails_to("lena@example.org") == []
    assert len(mail.outbox) == 2
    day = DigestDay.objects.get(municipality=kommun(MALMO), day=MONDAY)
    assert day.sent_at is not None and day.mails == 2


@pytest.mark.django_db
def test_two_claims_of_the_same_day_send_once(
    world, django_capture_on_commit_callbacks
):
    malmo = kommun(MALMO).pk
    with django_capture_on_commit_callbacks(execute=True):
        first = digest_claim(municipality_id=malmo, day=MONDAY)
    with django_capture_on_commit_callbacks(execute=True):
        second = digest_claim(municipality_id=malmo, day=MONDAY)
    assert (first, second) == (True, False)
    assert len(mails_to("sara@example.org")) == 1
    assert DigestDay.objects.filter(municipality_id=malmo).count() == 1


@pytest.mark.django_db
def test_the_scheduler_claims_each_kommun_once_a_working_day_from_the_hour(
    world, settings, django_capture_on_commit_callbacks
):
    settings.KNUTPUNKT_DIGEST_HOUR = 7
    # Malmö works on Monday 7 December; Lund has a day off of its own.
    WorkCalendar.objects.create(
        municipality=kommun(LUND), extra_days_off="2026-12-07 Klämdag"
    )
    with django_capture_on_commit_callbacks(execute=True):
        # Before the hour: nothing.
        assert (
            digests_claim_due(dt.datetime(2026, 12, 7, 6, 59, tzinfo=STOCKHOLM)) == []
        )
        claimed = digests_claim_due(dt.datetime(2026, 12, 7, 7, 0, tzinfo=STOCKHOLM))
        # Another process looking a minute later claims nothing.
        again = digests_claim_due(dt.datetime(2026, 12, 7, 7, 1, tzinfo=STOCKHOLM))
    participating = set(
        Municipality.objects.filter(participating=True).values_list("pk", flat=True)
    )
    assert kommun(MALMO).pk in claimed and kommun(LUND).pk not in claimed
    assert set(claimed) == participating - {kommun(LUND).pk} and again == []
    assert len(mails_to("sara@example.org")) == 1
    assert mails_to("lena@example.org") == []

    # Lund's next working day.
    with django_capture_on_commit_callbacks(execute=True):
        tuesday = digests_claim_due(dt.datetime(2026, 12, 8, 7, 5, tzinfo=STOCKHOLM))
    assert kommun(LUND).pk in tuesday
    (lund,) = mails_to("lena@example.org")
    assert "Sen lykta i Lund" in lund.body and "Sen lykta &" not in lund.body

    # Christmas Day and a Sunday are no working days: nothing is claimed.
    with django_capture_on_commit_callbacks(execute=True):
        assert digests_claim_due(dt.datetime(2026, 12, 25, 9, tzinfo=STOCKHOLM)) == []
        assert digests_claim_due(dt.datetime(2026, 12, 13, 9, tzinfo=STOCKHOLM)) == []
    # Monday: Sara and Eric; Tuesday: Lena, and Sara and Eric again.
    assert len(mail.outbox) == 5


@pytest.mark.django_db
def test_a_kommun_without_overdue_reports_sends_nothing(
    world, django_capture_on_commit_callbacks
):
    Report.objects.filter(municipality__code=LUND).delete()
    with django_capture_on_commit_callbacks(execute=True):
        assert digest_claim(municipality_id=kommun(LUND).pk, day=MONDAY)
    assert mail.outbox == []
    assert DigestDay.objects.get(municipality__code=LUND).mails == 0


@pytest.mark.django_db
def test_the_command_sends_a_day_by_hand_once_unless_asked_again(world, capsys):
    call_command("send_overdue_digest", "--date", "2026-12-07", "--kommun", MALMO)
    assert len(mails_to("sara@example.org")) == 1
    call_command("send_overdue_digest", "--date", "2026-12-07", "--kommun", MALMO)
    assert len(mails_to("sara@example.org")) == 1
    assert "claimed already" in capsys.readouterr().out
    call_command(
        "send_overdue_digest", "--date", "2026-12-07", "--kommun", MALMO, "--again"
    )
    assert len(mails_to("sara@example.org")) == 2
    assert mails_to("lena@example.org") == []
