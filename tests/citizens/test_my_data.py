"""My data (GDPR articles 15, 17 and 20): a signed-in citizen, or anyone
through an e-mailed link, downloads everything held about them as JSON and
reads it as a page, and erases it: the reports stay public without name and
contact details, follows end, the account goes, the case systems given the
contact details are told through the outbox, and the erasure is audited by
counts only."""

import json
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from casehub.choices import DeliveryKind, DeliveryState
from casehub.models import Delivery
from citizens.models import Citizen, ErasureRecord
from citizens.services import citizen_confirm
from devkit.servers import Open311Server, WebhookReceiver
from devkit.webhooks import make_secret
from infra import personal_data
from municipalities.choices import ConnectionKind
from reports.choices import EventKind
from reports.models import Alert, MyReportsLink, Report, ReportEvent, Subscription
from reports.services import report_follow
from tests.citizens.conftest import link_path, page_text
from tests.support.casehub import confirmed_report, connect, deliver_due
from tests.support.factories import report

pytestmark = pytest.mark.django_db


def citizen_client(email="anna@example.org"):
    client = Client()
    client.force_login(citizen_confirm(email=email))
    return client


def test_a_signed_in_citizen_downloads_everything_as_json_and_reads_it():
    mine = report(
        email="anna@example.org",
        name="Anna Andersson",
        phone="040-123456",
        show_name=True,
        title="Min lampa",
    )
    followed = report(email="bo@example.org", title="Bos lampa")
    report_follow(report=followed, email="anna@example.org")
    client = citizen_client()
    answer = client.get("/mina-data/?format=json")
    assert answer.status_code == 200
    assert answer["Content-Type"].startswith("application/json")
    assert "attachment" in answer["Content-Disposition"]
    assert answer["Cache-Control"] == "no-store"
    data = json.loads(answer.content)
    assert data["addresses"] == ["anna@example.org"]
    assert data["account"]["email"] == "anna@example.org"
    (exported,) = data["reports"]
    assert exported["id"] == mine.pk and exported["title"] == "Min lampa"
    assert (exported["name"], exported["email"], exported["phone"]) == (
        "Anna Andersson",
        "anna@example.org",
        "040-123456",
    )
    assert exported["consents"] == {"show_name": True, "share_contact": False}
    (follow,) = data["follows"]
    assert follow["report"] == followed.pk
    assert data["emails"]["copies_kept"] is False
    assert "keeps no copy" in data["emails"]["what_is_kept"]
    page = client.get("/mina-data/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "Min lampa" in html and "040-123456" in html and "Bos lampa" in html
    assert 'id="download-json"' in html


def test_without_an_account_an_emailed_link_opens_my_data(
    client, smtp_server, django_capture_on_commit_callbacks
):
    report(email="sara@example.org", title="Saras lampa")
    form = client.get("/mina-data/")
    assert form.status_code == 200 and "Saras lampa" not in form.content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        asked = client.post("/mina-data/", {"email": "Sara@example.org"})
        unknown = Client().post("/mina-data/", {"email": "ingen@example.org"})
    # The same answer whether or not the platform holds anything.
    assert asked.status_code == unknown.status_code == 200
    assert page_text(asked, "sara@example.org") == page_text(
        unknown, "ingen@example.org"
    )
    assert smtp_server.bodies_to("ingen@example.org") == []
    path = link_path(smtp_server, "sara@example.org", "/mina-data/lank/")
    reader = Client()
    assert reader.get(path).status_code == 200
    assert reader.post(path)["Location"] == "/mina-data/"
    data = json.loads(reader.get("/mina-data/?format=json").content)
    assert data["account"] is None
    assert [r["title"] for r in data["reports"]] == ["Saras lampa"]
    # Used once; expired or unknown: a clear page, 410.
    assert Client().post(path).status_code == 410


def test_an_expired_data_link_is_410_and_opens_nothing(
    client, smtp_server, django_capture_on_commit_callbacks
):
    report(email="sara@example.org", title="Saras lampa")
    with django_capture_on_commit_callbacks(execute=True):
        client.post("/mina-data/", {"email": "sara@example.org"})
    path = link_path(smtp_server, "sara@example.org", "/mina-data/lank/")
    MyReportsLink.objects.update(expires_at=timezone.now() - timedelta(minutes=1))
    for answer in (client.get(path), client.post(path)):
        assert answer.status_code == 410
        assert "Saras lampa" not in answer.content.decode()
    assert "expired" in client.post(path).content.decode()
    assert "Saras lampa" not in client.get("/mina-data/").content.decode()


def test_erasing_an_account_keeps_the_reports_public_without_the_person():
    mine = report(
        email="anna@example.org",
        name="Anna Andersson",
        phone="040-123456",
        show_name=True,
        share_contact=True,
        title="Min lampa",
    )
    followed = report(email="bo@example.org", title="Bos lampa")
    report_follow(report=followed, email="anna@example.org")
    client = citizen_client()
    user_id = int(client.session["_auth_user_id"])
    refused = client.post("/mina-data/radera/", {})
    assert refused.status_code == 400 and Report.objects.get(pk=mine.pk).name
    done = client.post("/mina-data/radera/", {"confirm": "on"})
    assert done.status_code == 200 and 'id="erased"' in done.content.decode()
    mine.refresh_from_db()
    assert (mine.name, mine.email, mine.phone, mine.reporter) == ("", "", "", None)
    assert not mine.show_name and not mine.share_contact
    assert mine.title == "Min lampa"
    assert Client().get(f"/rapporter/{mine.pk}/").status_code == 200
    assert not Subscription.objects.filter(email="anna@example.org").exists()
    assert not Citizen.objects.filter(user_id=user_id).exists()
    # The timeline keeps an internal note of it, never shown publicly.
    (erased,) = ReportEvent.objects.filter(report=mine, kind=EventKind.ERASED)
    assert erased.is_public is False
    # Audited by counts, without the person.
    (record,) = ErasureRecord.objects.all()
    assert record.via == "account"
    assert record.counts["reports.reports"] == 1
    assert record.counts["follows.follows"] == 1
    assert record.counts["accounts"] == 1
    assert "anna" not in json.dumps(record.counts)
    # Signed out: the pages no longer know who it was.
    assert "_auth_user_id" not in client.session
    assert 'id="download-json"' not in client.get("/mina-data/").content.decode()


def test_erasure_tells_the_case_systems_that_were_given_the_contact_details(
    monkeypatch,
):
    secret = make_secret()
    monkeypatch.setenv("KNUTPUNKT_CONNECTION_SECRET_HOOK", secret)
    with WebhookReceiver(secret) as receiver:
        connect(
            ConnectionKind.WEBHOOK,
            endpoint=receiver.url,
            secret_env="KNUTPUNKT_CONNECTION_SECRET_HOOK",
        )
        shared = confirmed_report(share_contact=True, title="Delad")
        kept = confirmed_report(share_contact=False, title="Inte delad")
        assert deliver_due() == [DeliveryState.DELIVERED] * 2
        client = citizen_client()
        client.post("/mina-data/radera/", {"confirm": "on"})
        (notice,) = Delivery.objects.filter(kind=DeliveryKind.UPDATE)
        assert notice.report_id == shared.pk
        assert not Delivery.objects.filter(
            report=kept, kind=DeliveryKind.UPDATE
        ).exists()
        assert deliver_due() == [DeliveryState.DELIVERED]
        told = receiver.received[-1]["json"]
        assert told["type"] == "report.updated"
        assert told["data"]["change"] == "erasure"
        assert "anna@example.org" not in json.dumps(told)
        assert ErasureRecord.objects.get().counts["reports.case_system_notices"] == 1


def test_an_open311_case_system_is_asked_in_words(settings):
    with Open311Server() as open311:
        connect(ConnectionKind.OPEN311, endpoint=open311.url, send_contact=True)
        confirmed_report()
        assert deliver_due() == [DeliveryState.DELIVERED]
        citizen_client().post("/mina-data/radera/", {"confirm": "on"})
        assert deliver_due() == [DeliveryState.DELIVERED]
        (taken,) = open311.updates_received
        assert "GDPR" in taken["description"]
        assert "anna@example.org" not in json.dumps(taken)


def test_erasure_by_link_without_an_account(
    client, smtp_server, django_capture_on_commit_callbacks
):
    gone = report(email="sara@example.org", name="Sara", title="Saras lampa")
    stays = report(email="bo@example.org", name="Bo", title="Bos lampa")
    with django_capture_on_commit_callbacks(execute=True):
        client.post("/mina-data/", {"email": "sara@example.org"})
    client.post(link_path(smtp_server, "sara@example.org", "/mina-data/lank/"))
    assert client.post("/mina-data/radera/", {"confirm": "on"}).status_code == 200
    gone.refresh_from_db()
    stays.refresh_from_db()
    assert (gone.name, gone.email) == ("", "")
    assert (stays.name, stays.email) == ("Bo", "bo@example.org")
    assert ErasureRecord.objects.get().via == "link"
    assert not MyReportsLink.objects.filter(email="sara@example.org").exists()


def test_another_apps_data_joins_the_export_and_the_erasure():
    seen = []

    def export(subject):
        return {"emails": list(subject.emails)}

    def erase(subject):
        seen.append(subject.emails)
        return {"things": 2}

    personal_data.personal_data_section("another_app", export=export, erase=erase)
    try:
        client = citizen_client()
        data = json.loads(client.get("/mina-data/?format=json").content)
        assert data["another_app"] == {"emails": ["anna@example.org"]}
        client.post("/mina-data/radera/", {"confirm": "on"})
        assert seen == [("anna@example.org",)]
        assert ErasureRecord.objects.get().counts["another_app.things"] == 2
    finally:
        personal_data._sections.pop("another_app")


def test_nothing_is_shown_or_erased_for_a_visitor_we_do_not_know(client):
    report(email="sara@example.org", title="Saras lampa")
    assert client.get("/mina-data/?format=json").status_code == 200
    assert "Saras lampa" not in client.get("/mina-data/?format=json").content.decode()
    assert client.post("/mina-data/radera/", {"confirm": "on"}).status_code == 302
    assert Report.objects.get(title="Saras lampa").email == "sara@example.org"
    assert not ErasureRecord.objects.exists()


def test_alerts_are_in_the_export_and_end_with_the_erasure():
    from municipalities.models import Municipality  # only this test needs it

    malmo = Municipality.objects.get(code="1280")
    Alert.objects.create(
        kind="kommun",
        email="anna@example.org",
        phone="+46701234567",
        municipality=malmo,
        confirmed_at=timezone.now(),
    )
    Alert.objects.create(kind="kommun", email="bo@example.org", municipality=malmo)
    client = citizen_client()
    (alert,) = json.loads(client.get("/mina-data/?format=json").content)["alerts"]
    assert alert["kind"] == "kommun" and alert["kommun"] == "Malmö"
    assert alert["phone"] == "+46701234567"
    page = client.get("/mina-data/").content.decode()
    assert "Malmö" in page and "+46701234567" in page
    assert client.post("/mina-data/radera/", {"confirm": "on"}).status_code == 200
    assert list(Alert.objects.values_list("email", flat=True)) == ["bo@example.org"]
    assert ErasureRecord.objects.get().counts["alerts.alerts"] == 1
