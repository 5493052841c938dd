"""A citizen's word reaches the case system holding the report's case through
the outbox, as staff's changes do: the reporter's update and "it is fixed", and
the reopening by "no" to "is it fixed?" (which FixMyStreet does not send). An
inbox connection needs nothing: its case is the report itself."""

import re
from datetime import timedelta

import pytest
from django.utils import timezone

from casehub.choices import DeliveryKind, DeliveryState
from casehub.models import Delivery
from devkit.servers import WebhookReceiver
from devkit.webhooks import make_secret
from municipalities.choices import ConnectionKind
from reports.choices import ReportStatus
from reports.events import Actor
from reports.mail import site_url
from reports.models import Report
from reports.photos import process_photo
from reports.questionnaire_schedule import questionnaires_claim_due
from reports.services import report_transition
from reports.updates import questionnaire_answer, report_update_add
from tests.support.casehub import confirmed_report, connect, deliver_due, reporter_user
from tests.support.people import case_handler
from tests.support.photos import jpeg

pytestmark = pytest.mark.django_db


def updates_of(report) -> list[Delivery]:
    return list(
        Delivery.objects.filter(report=report, kind=DeliveryKind.UPDATE).order_by("pk")
    )


def a_photo():
    return process_photo(jpeg().read(), name="lampa.jpg")


def questionnaire_link(report, smtp_server, capture) -> str:
    """Claim and send the report's questionnaire: the raw token of the link
    the reporter is e-mailed."""
    with capture(execute=True):
        assert questionnaires_claim_due(now=timezone.now() + timedelta(days=29))
    (mail,) = [
        body for body in smtp_server.bodies_to("anna@example.org") if "/fixat/" in body
    ]
    return re.search(r"/fixat/(\S+)/", mail).group(1)


def test_a_reopening_reaches_open311_as_a_service_request_update(
    open311, smtp_server, django_capture_on_commit_callbacks
):
    connect(ConnectionKind.OPEN311, endpoint=open311.url)
    report = confirmed_report()
    assert deliver_due() == [DeliveryState.DELIVERED]
    report_transition(
        actor=case_handler(), report_id=report.pk, status=ReportStatus.FIXED
    )
    raw = questionnaire_link(report, smtp_server, django_capture_on_commit_callbacks)
    questionnaire_answer(raw_token=raw, fixed=False)
    (update,) = updates_of(report)
    assert deliver_due() == [DeliveryState.DELIVERED]
    (taken,) = open311.updates_received
    assert taken["service_request_id"] == "1001"
    assert taken["status"] == "OPEN"
    assert "media_url" not in taken  # no photo with this one
    assert "open again" in taken["description"] or "öppen igen" in taken["description"]
    assert taken["update_id"] == str(update.event_id)
    # Nothing personal of the reporter's goes with it.
    assert taken["first_name"] == "Knutpunkt"
    assert "anna@example.org" not in str(taken)


def test_the_reporters_update_reaches_a_webhook_as_theirs(monkeypatch):
    secret = make_secret()
    monkeypatch.setenv("KNUTPUNKT_CONNECTION_SECRET_HOOK", secret)
    with WebhookReceiver(secret) as receiver:
        connect(
            ConnectionKind.WEBHOOK,
            endpoint=receiver.url,
            secret_env="KNUTPUNKT_CONNECTION_SECRET_HOOK",
        )
        report = confirmed_report()
        assert deliver_due() == [DeliveryState.DELIVERED]
        (event,) = report_update_add(
            report_id=report.pk,
            author=Actor.reporter(reporter_user()),
            text="Nu har stolpen också vält.",
            photos=[a_photo()],
            fixed=False,
        )
        assert deliver_due() == [DeliveryState.DELIVERED]
        created, updated = receiver.received
        data = updated["json"]["data"]
        assert updated["json"]["type"] == "report.updated"
        assert (data["change"], data["author"]) == ("update", "reporter")
        assert data["reply"] == "Nu har stolpen också vält."
        # The update's own photo, by its public address; not the report's.
        (photo,) = event.photos.all()
        assert data["photos"] == [site_url(report) + photo.image.url]
        assert created["json"]["data"]["photos"] == []


def test_it_is_fixed_is_emailed_to_the_body_from_the_reporter(smtp_server):
    connect(ConnectionKind.EMAIL, email="gatukontoret@malmo.example")
    report = confirmed_report()
    assert deliver_due() == [DeliveryState.DELIVERED]
    report_update_add(
        report_id=report.pk,
        author=Actor.reporter(reporter_user()),
        photos=[a_photo()],
        fixed=True,
    )
    assert deliver_due() == [DeliveryState.DELIVERED, DeliveryState.DELIVERED]
    _case, with_photo, fixed = [
        m["message"]
        for m in smtp_server.messages
        if "gatukontoret@malmo.example" in m["to"]
    ]
    body = fixed.get_body(("plain",)).get_content()
    assert report.get_absolute_url() in body
    # The update's photo goes with its message, as the report's go with the case's.
    (attached,) = [
        part for part in with_photo.iter_attachments() if part.get_filename()
    ]
    assert attached.get_content_type() == "image/jpeg"
    assert attached.get_payload(decode=True)[:3] == b"\xff\xd8\xff"
    assert not [p for p in fixed.iter_attachments() if p.get_filename()]
    assert Report.objects.get(pk=report.pk).status == ReportStatus.FIXED


def test_an_inbox_connection_needs_nothing():
    report = confirmed_report()  # Malmö's default route: its inbox
    report_update_add(
        report_id=report.pk, author=Actor.reporter(reporter_user()), text="Hej"
    )
    assert updates_of(report) == []


def test_an_updates_photo_reaches_open311_as_its_media_url(open311):
    connect(ConnectionKind.OPEN311, endpoint=open311.url)
    report = confirmed_report()
    assert deliver_due() == [DeliveryState.DELIVERED]
    (event,) = report_update_add(
        report_id=report.pk,
        author=Actor.reporter(reporter_user()),
        text="Foto från i dag.",
        photos=[a_photo()],
    )
    assert deliver_due() == [DeliveryState.DELIVERED]
    (taken,) = open311.updates_received
    (photo,) = event.photos.all()
    assert taken["media_url"] == site_url(report) + photo.image.url
