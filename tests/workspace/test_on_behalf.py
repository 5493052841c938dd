"""Filing a report on behalf of a caller (workspace.on_behalf): the caller is the
reporter, the agent is recorded as the one who filed it, the report goes on like
any other; only contact-centre agents and kommun administrators, and only in
their kommun."""

import pytest
from django.urls import reverse

from casehub.models import Delivery
from devkit.servers import NominatimServer
from municipalities.choices import StaffRole
from municipalities.models import AuditEntry
from reports.choices import ActorKind, EventKind, ReportChannel, ReportStatus
from reports.models import Report, Subscription
from tests.support.casework import LUND, MALMO, as_user
from tests.support.factories import lamp_questions
from tests.support.people import staff_user, superuser
from tests.support.photos import jpeg

pytestmark = pytest.mark.django_db

URL = "/admin/inbox/new/"
STORTORGET = ("55.6059", "13.0007")
LUND_POINT = ("55.7047", "13.1910")


def form(**changes):
    data = {
        "address": "",
        "lat": STORTORGET[0],
        "lon": STORTORGET[1],
        "category": "klotter",
        "title": "Klotter på elskåpet",
        "description": "Elskåpet vid torget är nedklottrat.",
        "caller_name": "Greta Persson",
        "caller_email": "greta@example.org",
        "caller_phone": "040-55 55 55",
        "channel": "phone",
    }
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


@pytest.fixture
def agent():
    return staff_user("kundcenter", MALMO, StaffRole.CONTACT_CENTRE)


def test_an_agent_files_a_report_for_a_caller(
    client, agent, mailoutbox, django_capture_on_commit_callbacks
):
    inbox = as_user(client, agent).get("/admin/inbox/")
    assert URL in inbox.content.decode()  # the button on the inbox
    assert client.get(URL).status_code == 200

    with django_capture_on_commit_callbacks(execute=True):
        answer = client.post(URL, form(share_contact="on", photo=jpeg()))

    report = Report.objects.get()
    assert answer.status_code == 302
    assert answer["Location"] == reverse("inbox:inspect", args=[report.pk])
    # The caller is the reporter; the agent is nowhere in the reporter's fields.
    assert (report.name, report.email, report.phone) == (
        "Greta Persson",
        "greta@example.org",
        "040-55 55 55",
    )
    assert report.reporter is None and report.share_contact
    assert report.photos.count() == 1
    assert report.channel == ReportChannel.PHONE
    # Confirmed at once, routed and handed to the hub like any report.
    assert report.status == ReportStatus.OPEN and report.confirmed_at
    assert report.municipality.code == MALMO and report.body.slug == "kommun-malmo"
    assert Delivery.objects.filter(report=report).exists()
    # The first event is the agent's, saying how it came in.
    event = report.events.get(kind=EventKind.CONFIRMED)
    assert (event.actor_kind, event.actor_user) == (ActorKind.STAFF, agent)
    assert event.note == "Registrerad av kontaktcenter per telefon"
    assert event.data == {"channel": "phone", "filed_on_behalf": True}
    # The audit log names the agent.
    entry = AuditEntry.objects.get(action="report.file_on_behalf")
    assert entry.object_id == str(report.pk) and entry.municipality_id == (
        report.municipality_id
    )
    assert entry.actor == agent
    # The caller hears it was received (no confirmation link), and follows it.
    assert len(mailoutbox) == 1
    assert mailoutbox[0].to == ["greta@example.org"]
    assert "bekrafta" not in mailoutbox[0].body
    assert f"/rapporter/{report.pk}/" in mailoutbox[0].body
    assert Subscription.objects.get(report=report).confirmed_at is not None
    # Its public page says how it came in, and never who filed it.
    client.logout()
    public = client.get(f"/rapporter/{report.pk}/").content.decode()
    assert "Registrerad av kontaktcenter per telefon" in public
    assert agent.username not in public and "Greta" not in public
    as_user(client, agent)
    # The report's screen says how it came in.
    page = client.get(answer["Location"]).content.decode()
    assert "Channel" in page and "Phone" in page


def test_a_visitor_without_e_mail_gets_no_mail(
    client, agent, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        as_user(client, agent).post(
            URL, form(caller_email="", channel="visit", caller_phone="0701234567")
        )
    report = Report.objects.get()
    assert report.channel == ReportChannel.VISIT and report.email == ""
    assert report.events.get().note == "Registrerad av kontaktcenter vid besök"
    assert mailoutbox == [] and not Subscription.objects.exists()


def test_errors_show_at_their_fields_and_keep_what_was_typed(client, agent):
    lamp_questions()
    answer = as_user(client, agent).post(
        URL,
        form(
            category="gatubelysning",
            caller_email="",
            caller_phone="",
            lat="inte ett tal",
        ),
    )
    assert answer.status_code == 400
    errors = answer.context["form"].errors
    assert "caller_email" in errors and "lat" in errors
    assert not Report.objects.exists()
    text = answer.content.decode()
    assert 'value="Klotter på elskåpet"' in text and "Greta Persson" in text

    # The category's questions are answered at their own fields.
    answer = client.post(URL, form(category="gatubelysning"))
    assert answer.status_code == 400
    assert "q_gatubelysning_stolpe" in answer.context["form"].errors
    answer = client.post(
        URL,
        form(
            category="gatubelysning",
            q_gatubelysning_stolpe="A-17",
            q_gatubelysning_fel="Släckt",
        ),
    )
    assert answer.status_code == 302
    assert Report.objects.get().extra == {"stolpe": "A-17", "fel": "Släckt"}


def test_an_address_is_found_through_the_geocoder(client, agent, settings):
    places = [
        # Found first, but in Lund.
        {"name": "Stortorget, Malmövägen, Lund", "lat": 55.7047, "lon": 13.1910},
        {"name": "Stortorget, Malmö", "lat": 55.6059, "lon": 13.0007},
    ]
    with NominatimServer(places) as nominatim:
        settings.KNUTPUNKT_GEOCODER = {
            **settings.KNUTPUNKT_GEOCODER,
            "domain": nominatim.domain,
            "scheme": "http",
        }
        answer = as_user(client, agent).post(
            URL, form(lat="", lon="", address="Stortorget")
        )
        assert answer.status_code == 302
        report = Report.objects.get()
        # Searched for in the agent's kommun, and only a place there taken.
        assert (report.lat, report.lon) == (55.6059, 13.0007)
        assert nominatim.queries[-1]["q"] == "Stortorget, Malmö"
        answer = client.post(URL, form(lat="", lon="", address="Ingenstans"))
        assert answer.status_code == 400
        assert "address" in answer.context["form"].errors


def test_lunds_agent_cannot_file_in_malmo(client):
    lund_agent = staff_user("lund-kundcenter", LUND, StaffRole.CONTACT_CENTRE)
    answer = as_user(client, lund_agent).post(URL, form())
    assert answer.status_code == 400
    assert "Malmö" in str(answer.context["form"].errors["lat"])
    assert not Report.objects.exists()
    # In Lund they may.
    answer = client.post(URL, form(lat=LUND_POINT[0], lon=LUND_POINT[1]))
    assert answer.status_code == 302
    assert Report.objects.get().municipality.code == LUND


def test_a_case_handler_is_refused_and_sees_no_button(client):
    handler = staff_user("handlaggare", MALMO, StaffRole.CASE_HANDLER)
    as_user(client, handler)
    assert URL not in client.get("/admin/inbox/").content.decode()
    # Refused: Wagtail sends them back to the dashboard with a message.
    assert client.get(URL).status_code in (302, 403)
    assert client.post(URL, form()).status_code in (302, 403)
    assert not Report.objects.exists()


def test_a_kommun_administrator_and_a_superuser_may_file(client):
    admin = staff_user("malmo-admin", MALMO, StaffRole.ADMIN)
    assert as_user(client, admin).post(URL, form()).status_code == 302
    assert as_user(client, superuser()).post(URL, form()).status_code == 302
    assert Report.objects.count() == 2


def test_the_form_has_a_map_whose_tiles_the_admin_policy_allows(client, agent):
    as_user(client, agent)
    page = client.get(URL)
    assert 'id="caller-map"' in page.content.decode()
    # The configured tile server, and no other third party.
    policy = page["Content-Security-Policy"]
    assert "img-src 'self' data: blob: https://tile.openstreetmap.org;" in policy
    assert policy.count("http") == 1
