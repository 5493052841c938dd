""" "Is it fixed?": the kommun's interval after a report was sent the reporter
is e-mailed a single-use link (claimed once, whoever looks); "yes" marks it
fixed by the reporter, "no" reopens a fixed or closed report; asked again only
on request; a link used twice takes its reader to the report, a link whose
report was deleted answers 410."""

import re
from datetime import timedelta

import pytest
from django.core.cache import cache
from django.test import Client
from django.utils import timezone

from citizens.services import personal_data_erase
from infra.personal_data import DataSubject
from reports.choices import ActorKind, EventKind, QuestionnaireAnswer, ReportStatus
from reports.models import EmailToken, Questionnaire, Report, ReportEvent
from reports.questionnaire_schedule import questionnaire_claim, questionnaires_claim_due
from reports.services import report_transition
from tests.support.casehub import confirmed_report
from tests.support.people import case_handler

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _no_rate_limits_between_tests():
    cache.clear()


def later(days: int):
    return timezone.now() + timedelta(days=days)


def fixed_report():
    report = confirmed_report()
    report_transition(
        actor=case_handler(), report_id=report.pk, status=ReportStatus.FIXED
    )
    report.refresh_from_db()
    return report


def questionnaire_path(smtp_server, capture) -> str:
    """Claim what is due in four weeks and a day; the path of the link mailed."""
    with capture(execute=True):
        questionnaires_claim_due(now=later(29))
    (mail,) = smtp_server.bodies_to("anna@example.org")
    link = re.search(r"https?://\S+/fixat/\S+/", mail).group(0)
    return "/" + link.split("://", 1)[1].split("/", 1)[1]


def test_the_first_questionnaire_is_due_after_the_kommuns_interval():
    report = confirmed_report()
    assert report.municipality.questionnaire_days == 28
    report.refresh_from_db()
    due = report.questionnaire_due_at
    assert later(27) < due < later(29)
    assert questionnaires_claim_due(now=later(27)) == []
    assert questionnaires_claim_due(now=later(29)) == [report.pk]
    # Claimed once: a second process looking finds nothing.
    assert questionnaire_claim(report_id=report.pk, now=later(29)) is False
    assert questionnaires_claim_due(now=later(60)) == []
    assert Questionnaire.objects.filter(report=report).count() == 1


def test_a_kommun_asks_sooner_when_it_says_so():
    report = confirmed_report()
    report.municipality.questionnaire_days = 7
    report.municipality.save()
    later_report = confirmed_report(title="En till")
    later_report.refresh_from_db()
    assert later_report.questionnaire_due_at < later(8)


def test_no_on_a_fixed_report_reopens_it_by_the_reporter(
    client, smtp_server, django_capture_on_commit_callbacks
):
    report = fixed_report()
    path = questionnaire_path(smtp_server, django_capture_on_commit_callbacks)
    asked = client.get(path)
    assert asked.status_code == 200 and 'name="fixed"' in asked.content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        answer = client.post(path, {"fixed": "no"})
    assert answer.status_code == 302
    assert answer["Location"] == report.get_absolute_url()
    report.refresh_from_db()
    assert report.status == ReportStatus.OPEN and report.fixed_at is None
    event = ReportEvent.objects.filter(report=report).latest("pk")
    assert (event.kind, event.status, event.actor_kind) == (
        EventKind.STATUS,
        ReportStatus.OPEN,
        ActorKind.REPORTER,
    )
    assert event.data["reopened"] is True
    questionnaire = Questionnaire.objects.get(report=report)
    assert questionnaire.answer == QuestionnaireAnswer.NO and questionnaire.reopened
    # Not asked again unless asked for.
    assert report.questionnaire_due_at is None
    page = client.get(report.get_absolute_url()).content.decode()
    assert 'class="reopened"' in page


def test_yes_marks_it_fixed_and_ask_again_asks_again(
    client, smtp_server, django_capture_on_commit_callbacks
):
    report = confirmed_report()
    path = questionnaire_path(smtp_server, django_capture_on_commit_callbacks)
    client.post(path, {"fixed": "yes", "ask_again": "on"})
    report.refresh_from_db()
    assert report.status == ReportStatus.FIXED
    event = ReportEvent.objects.filter(report=report).latest("pk")
    assert event.actor_kind == ActorKind.REPORTER and event.data["by_reporter"]
    assert later(27) < report.questionnaire_due_at < later(29)


def test_no_on_an_open_report_changes_nothing_but_is_counted(
    client, smtp_server, django_capture_on_commit_callbacks
):
    report = confirmed_report()
    path = questionnaire_path(smtp_server, django_capture_on_commit_callbacks)
    events = ReportEvent.objects.filter(report=report).count()
    client.post(path, {"fixed": "no"})
    report.refresh_from_db()
    assert report.status == ReportStatus.OPEN
    assert ReportEvent.objects.filter(report=report).count() == events
    assert Questionnaire.objects.get(report=report).answer == "no"


def test_no_answer_is_an_error_at_the_field(
    client, smtp_server, django_capture_on_commit_callbacks
):
    report = fixed_report()
    path = questionnaire_path(smtp_server, django_capture_on_commit_callbacks)
    answer = client.post(path, {"fixed": "maybe"})
    assert answer.status_code == 400
    assert 'aria-invalid="true"' in answer.content.decode()
    report.refresh_from_db()
    assert report.status == ReportStatus.FIXED
    assert client.post(path, {"fixed": "no"}).status_code == 302  # still usable


def test_a_link_used_twice_takes_its_reader_to_the_report(
    client, smtp_server, django_capture_on_commit_callbacks
):
    report = fixed_report()
    path = questionnaire_path(smtp_server, django_capture_on_commit_callbacks)
    client.post(path, {"fixed": "no"})
    events = ReportEvent.objects.filter(report=report).count()
    other = Client(HTTP_ACCEPT_LANGUAGE="en")
    for again in (
        other.get(path, follow=True),
        other.post(path, {"fixed": "yes"}, follow=True),
    ):
        assert again.redirect_chain[-1][0] == report.get_absolute_url()
    report.refresh_from_db()
    assert report.status == ReportStatus.OPEN
    assert ReportEvent.objects.filter(report=report).count() == events


def test_a_link_whose_report_was_deleted_answers_410(
    client, smtp_server, django_capture_on_commit_callbacks
):
    report = fixed_report()
    path = questionnaire_path(smtp_server, django_capture_on_commit_callbacks)
    Report.objects.filter(pk=report.pk).delete()
    assert not EmailToken.objects.exists()
    for answer in (client.get(path), client.post(path, {"fixed": "no"})):
        assert answer.status_code == 410
        assert "Lampan är trasig" not in answer.content.decode()
    # An unknown link is a 410 too, saying the link does not work.
    assert client.get("/fixat/nonsense/").status_code == 410


def test_a_duplicate_is_not_asked(smtp_server, django_capture_on_commit_callbacks):
    report = confirmed_report()
    Report.objects.filter(pk=report.pk).update(status=ReportStatus.DUPLICATE)
    with django_capture_on_commit_callbacks(execute=True):
        questionnaires_claim_due(now=later(29))
    assert smtp_server.messages == []
    report.refresh_from_db()
    assert report.questionnaire_due_at is None


def test_a_link_whose_reporter_was_erased_answers_410_and_reopens_nothing(
    client, smtp_server, django_capture_on_commit_callbacks
):
    report = fixed_report()
    path = questionnaire_path(smtp_server, django_capture_on_commit_callbacks)
    email = Report.objects.get(pk=report.pk).email
    personal_data_erase(subject=DataSubject(emails=(email,)), via="link")
    for answer in (client.get(path), client.post(path, {"fixed": "no"})):
        assert answer.status_code == 410
    report.refresh_from_db()
    assert report.status == ReportStatus.FIXED and report.email == ""
    assert report.questionnaire_due_at is None
