"""Sign-in with e-legitimation through an OpenID Connect broker, against a
real provider on loopback (devkit.servers.OIDCProvider, as for staff); the
browser's redirects are followed by hand."""

import http.client
from urllib.parse import urlsplit

import pytest
from django.test import Client

from citizens.models import Citizen
from citizens.services import citizen_confirm
from devkit.servers import OIDCProvider
from municipalities.choices import StaffRole
from reports.models import Report
from tests.support.factories import report
from tests.support.people import staff_user

pytestmark = [pytest.mark.django_db, pytest.mark.timeout(60)]

PERSONNUMMER = "199001012384"


@pytest.fixture
def broker(settings):
    with OIDCProvider(client_id="knutpunkt", client_secret="hemligt") as server:
        settings.KNUTPUNKT_CITIZEN_OIDC = {
            "issuer": server.issuer,
            "client_id": "knutpunkt",
            "client_secret": "hemligt",
            "name": "BankID",
        }
        server.user = {
            "sub": PERSONNUMMER,
            "email": "sara@example.org",
            "email_verified": True,
            "name": "Sara Svensson",
        }
        yield server


def at_provider(url: str) -> str:
    parts = urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
    try:
        connection.request("GET", f"{parts.path}?{parts.query}")
        response = connection.getresponse()
        response.read()
        assert response.status == 302, response.status
        return response.getheader("Location")
    finally:
        connection.close()


def eid_sign_in(client, broker, *, change_state=False):
    start = client.get("/konto/e-legitimation/")
    assert start.status_code == 302
    assert start["Location"].startswith(f"{broker.issuer}/authorize?")
    back = urlsplit(at_provider(start["Location"]))
    assert back.path == "/konto/e-legitimation/klar/"
    query = back.query + ("x" if change_state else "")
    return client.get(f"{back.path}?{query}")


def signed_in(client):
    return client.session.get("_auth_user_id")


def test_the_sign_in_page_offers_the_broker(client, broker):
    page = client.get("/konto/logga-in/").content.decode()
    assert 'id="eid-sign-in"' in page and "BankID" in page


def test_a_verified_address_makes_the_account_and_joins_its_reports(client, broker):
    earlier = report(email="sara@example.org", title="Saras lampa")
    answer = eid_sign_in(client, broker)
    assert answer.status_code == 302 and answer["Location"] == "/mina-sidor/"
    (citizen,) = Citizen.objects.all()
    assert citizen.user.email == "sara@example.org"
    assert signed_in(client) == str(citizen.user.pk)
    # The personal identity number is not stored, only a keyed hash of it.
    assert citizen.eid_subject and PERSONNUMMER not in citizen.eid_subject
    assert Report.objects.get(pk=earlier.pk).reporter == citizen.user
    # Next time the subject finds the account, whatever address it gives.
    broker.user = {"sub": PERSONNUMMER}
    again = Client()
    assert eid_sign_in(again, broker).status_code == 302
    assert signed_in(again) == str(citizen.user.pk)


def test_without_a_verified_address_nobody_is_signed_in(client, broker):
    for user in (
        {"sub": "s-1"},
        {"sub": "s-2", "email": "bo@example.org"},  # not said to be verified
        {"sub": "s-3", "email": "bo@example.org", "email_verified": False},
    ):
        broker.user = user
        answer = eid_sign_in(Client(), broker)
        assert answer.status_code == 400
        assert 'id="eid-error"' in answer.content.decode()
    assert not Citizen.objects.exists()


def test_a_signed_in_citizen_connects_their_e_legitimation(client, broker):
    user = citizen_confirm(email="anna@example.org")
    client.force_login(user)
    broker.user = {"sub": PERSONNUMMER}  # the broker gives no address
    assert eid_sign_in(client, broker)["Location"] == "/konto/"
    fresh = Client()
    assert eid_sign_in(fresh, broker).status_code == 302
    assert signed_in(fresh) == str(user.pk)
    # Connected to one account only.
    other = Client()
    other.force_login(citizen_confirm(email="bo@example.org"))
    assert eid_sign_in(other, broker).status_code == 400


def test_a_staff_address_is_never_signed_in_here(client, broker):
    staff_user("handlaggare", "1280", StaffRole.CASE_HANDLER)
    broker.user = {
        "sub": "s-9",
        "email": "handlaggare@example.org",
        "email_verified": True,
    }
    assert eid_sign_in(client, broker).status_code == 400
    assert signed_in(client) is None and not Citizen.objects.exists()


def test_a_forged_state_or_a_cancelled_sign_in_signs_nobody_in(client, broker):
    assert eid_sign_in(client, broker, change_state=True).status_code == 400
    cancelled = client.get("/konto/e-legitimation/klar/?error=access_denied")
    assert cancelled.status_code == 400 and signed_in(client) is None


def test_without_a_broker_it_is_not_offered(client, settings):
    settings.KNUTPUNKT_CITIZEN_OIDC = {}
    assert 'id="eid-sign-in"' not in client.get("/konto/logga-in/").content.decode()
    assert client.get("/konto/e-legitimation/").status_code == 404
