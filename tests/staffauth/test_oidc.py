"""Sign-in through a kommun's identity provider, against a real OpenID Connect
provider on loopback (devkit.servers.OIDCProvider); the browser's redirects are
followed by hand."""

import http.client
import time
from urllib.parse import parse_qs, urlsplit

import pytest
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.core.checks import run_checks
from django.test import Client

from devkit.servers import OIDCProvider
from municipalities.choices import StaffRole
from tests.support.people import staff_user

pytestmark = [pytest.mark.django_db, pytest.mark.timeout(60)]

START = "/admin/oidc/malmo/"
LOGGER = "knutpunkt.staffauth"


@pytest.fixture
def provider(settings):
    with OIDCProvider(client_id="knutpunkt", client_secret="hemligt") as server:
        settings.KNUTPUNKT_STAFF_OIDC = {
            "malmo": {
                "issuer": server.issuer,
                "client_id": "knutpunkt",
                "client_secret": "hemligt",
                "email_domains": ["malmo.se"],
            }
        }
        settings.KNUTPUNKT_STAFF_TWO_FACTOR_REQUIRED = True
        cache.clear()
        yield server
    cache.clear()


@pytest.fixture
def handler(provider):
    """A Malmö case handler, whom the provider signs in next (unless the test
    says otherwise)."""
    user = staff_user("handlaggare", "1280", StaffRole.CASE_HANDLER)
    user.email = "Handlaggare@malmo.se"
    user.save()
    provider.user = {"sub": "s-0", "email": "handlaggare@malmo.se"}
    return user


def at_provider(url: str) -> str:
    """What the browser does at the provider: GET the authorisation URL; the
    Location it is sent back to."""
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


def callback_path(location: str) -> str:
    parts = urlsplit(location)
    assert parts.path == "/admin/oidc/malmo/callback/"
    return f"{parts.path}?{parts.query}"


def sign_in(client, provider, *, change_query=None):
    start = client.get(START, {"next": "/admin/reports/"})
    assert start.status_code == 302
    authorise = start["Location"]
    assert authorise.startswith(f"{provider.issuer}/authorize?")
    back = callback_path(at_provider(authorise))
    if change_query:
        parts = urlsplit(back)
        query = {k: v[0] for k, v in parse_qs(parts.query).items()}
        query.update(change_query)
        return client.get(parts.path, query)
    return client.get(back)


def signed_in_as(client):
    return client.session.get("_auth_user_id")


def refused(client, response, caplog, reason: str):
    """Refused for ``reason`` (as logged), with a message, and nobody signed in."""
    assert [r.getMessage() for r in caplog.records if r.name == LOGGER][-1].endswith(
        reason
    )
    assert response.status_code == 302
    assert response["Location"] == "/admin/login/"
    page = client.get(response["Location"]).content.decode()
    assert "Nobody was signed in" in page
    assert signed_in_as(client) is None


def test_the_sign_in_page_offers_each_configured_kommun(provider, settings):
    settings.LANGUAGE_CODE = "sv"
    page = Client().get("/admin/login/").content.decode()
    assert "Logga in med Malmö kommuns konto" in page
    assert 'href="/admin/oidc/malmo/' in page
    settings.LANGUAGE_CODE = "en"
    assert "Sign in with your Malmö kommun account" in (
        Client().get("/admin/login/").content.decode()
    )


def test_no_buttons_without_providers(settings):
    settings.KNUTPUNKT_STAFF_OIDC = {}
    assert "/admin/oidc/" not in Client().get("/admin/login/").content.decode()
    assert Client().get(START).status_code == 404


def test_a_member_of_staff_signs_in_with_the_kommuns_account(provider, handler):
    client = Client()
    done = sign_in(client, provider)
    assert done.status_code == 302
    assert done["Location"] == "/admin/reports/"
    # Matched by address, whatever its case.
    assert signed_in_as(client) == str(handler.pk)
    assert provider.requests.count("/token") == 1
    assert client.get("/admin/").status_code == 200


def test_the_address_may_come_from_userinfo(provider, handler):
    provider.email_in_id_token = False
    provider.user = {"sub": "s-1", "email": "handlaggare@malmo.se"}
    client = Client()
    assert sign_in(client, provider)["Location"] == "/admin/reports/"
    assert signed_in_as(client) == str(handler.pk)
    assert "/userinfo" in provider.requests


def test_the_providers_sign_in_stands_for_our_second_factor(provider):
    """A kommun administrator (who must use TOTP with a password) is let in: the
    kommun's provider enforces its own multi-factor policy."""
    admin = staff_user("kommunadmin", "1280", StaffRole.ADMIN)
    admin.email = "kommunadmin@malmo.se"
    admin.save()
    provider.user = {"sub": "s-2", "email": "kommunadmin@malmo.se"}
    client = Client()
    sign_in(client, provider)
    assert signed_in_as(client) == str(admin.pk)
    assert client.get("/admin/").status_code == 200


def test_a_wrong_state_is_refused_before_the_code_is_used(provider, handler, caplog):
    client = Client()
    refused(
        client,
        sign_in(client, provider, change_query={"state": "annat"}),
        caplog,
        "state does not match a sign-in started here",
    )
    assert "/token" not in provider.requests


def test_a_callback_is_used_once(provider, handler, caplog):
    client = Client()
    start = client.get(START)
    back = callback_path(at_provider(start["Location"]))
    assert client.get(back).status_code == 302
    client.logout()
    refused(
        client, client.get(back), caplog, "state does not match a sign-in started here"
    )
    assert provider.requests.count("/token") == 1


@pytest.mark.parametrize(
    ("claims", "reason"),
    [
        ({"nonce": "annat"}, "nonce does not match"),
        ({"iat": -7200, "exp": -3600}, "ID token refused: ExpiredSignatureError"),
        ({"aud": "another-client"}, "ID token refused: InvalidAudienceError"),
        ({"iss": "https://elsewhere.example"}, "ID token refused: InvalidIssuerError"),
    ],
    ids=["nonce", "expired", "audience", "issuer"],
)
def test_a_token_with_a_wrong_claim_is_refused(
    provider, handler, caplog, claims, reason
):
    now = int(time.time())
    provider.id_token_changes = {
        name: now + value if name in ("iat", "exp") else value
        for name, value in claims.items()
    }
    client = Client()
    refused(client, sign_in(client, provider), caplog, reason)


def test_a_token_signed_with_another_key_is_refused(provider, handler, caplog):
    provider.sign_with_other_key = True
    client = Client()
    refused(
        client,
        sign_in(client, provider),
        caplog,
        "ID token refused: InvalidSignatureError",
    )


def test_an_unknown_address_is_refused_and_no_account_is_made(
    provider, handler, caplog
):
    provider.user = {"sub": "s-3", "email": "okand@malmo.se"}
    users = get_user_model().objects.count()
    client = Client()
    refused(
        client,
        sign_in(client, provider),
        caplog,
        "no single staff account in this kommun has the address",
    )
    assert get_user_model().objects.count() == users


def test_an_address_outside_the_kommuns_domains_is_refused(provider, handler, caplog):
    handler.email = "handlaggare@example.org"
    handler.save()
    provider.user = {"sub": "s-4", "email": "handlaggare@example.org"}
    client = Client()
    refused(
        client,
        sign_in(client, provider),
        caplog,
        "e-mail domain not allowed for this provider",
    )


def test_an_unverified_address_is_refused(provider, handler, caplog):
    provider.user = {
        "sub": "s-5",
        "email": "handlaggare@malmo.se",
        "email_verified": False,
    }
    client = Client()
    refused(client, sign_in(client, provider), caplog, "e-mail address not verified")


def test_staff_of_another_kommun_are_refused(provider, caplog):
    lund = staff_user("lund-handlaggare", "1281", StaffRole.CASE_HANDLER)
    lund.email = "lund-handlaggare@malmo.se"
    lund.save()
    provider.user = {"sub": "s-6", "email": "lund-handlaggare@malmo.se"}
    client = Client()
    refused(
        client,
        sign_in(client, provider),
        caplog,
        "no single staff account in this kommun has the address",
    )


def test_the_provider_saying_no_signs_nobody_in(provider, handler):
    client = Client()
    client.get(START)
    response = client.get(
        "/admin/oidc/malmo/callback/", {"error": "access_denied", "state": "x"}
    )
    assert response.status_code == 302
    assert signed_in_as(client) is None
    assert "/token" not in provider.requests


def test_starting_sign_ins_is_rate_limited(provider, settings):
    settings.KNUTPUNKT_RATE_LIMITS = {
        **settings.KNUTPUNKT_RATE_LIMITS,
        "staff_oidc": (2, 600),
    }
    client = Client(REMOTE_ADDR="198.51.100.90")
    assert [client.get(START).status_code for _ in range(2)] == [302, 302]
    pending = client.session["staffauth_oidc_pending"]
    refused = client.get(START)
    assert refused.status_code == 429
    assert refused.json()["error"] == "rate_limited"
    assert client.session["staffauth_oidc_pending"] == pending


def test_a_wrong_configuration_is_reported_at_start_up(settings):
    settings.KNUTPUNKT_STAFF_OIDC = {
        "malmo": {"client_id": "x", "email_domains": []},
    }
    errors = [e for e in run_checks() if e.id.startswith("staffauth.")]
    assert [e.msg for e in errors] == [
        "KNUTPUNKT_STAFF_OIDC['malmo'] lacks client_secret, issuer or "
        "discovery_url, email_domains (a non-empty list)"
    ]
