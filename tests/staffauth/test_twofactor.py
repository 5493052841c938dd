"""TOTP two-factor sign-in: codes computed here from the device's key (RFC 6238)."""

import base64
import os
import re
import time

import pytest
from asgiref.sync import async_to_sync
from channels.auth import AuthMiddleware
from django.contrib.sessions.backends.db import SessionStore
from django.test import Client
from django_otp.oath import TOTP
from django_otp.plugins.otp_static.models import StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from municipalities.choices import StaffRole
from staffauth.channels import SecondFactorScopeMiddleware
from tests.support.people import PASSWORD, case_handler, staff_user, superuser

LOGIN = "/admin/login/"
ENROL = "/admin/two-factor/enrol/"
VERIFY = "/admin/two-factor/verify/"


@pytest.fixture(autouse=True)
def _rules(settings):
    settings.KNUTPUNKT_STAFF_TWO_FACTOR_REQUIRED = True


def code(device, steps_ahead: int = 0) -> str:
    """The device's code now (or a step later: django-otp refuses a step twice)."""
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time = time.time() + steps_ahead * device.step
    return f"{totp.token():06d}"


def sign_in(client, user):
    response = client.post(LOGIN, {"username": user.username, "password": PASSWORD})
    assert response.status_code == 302
    return response


def enrolled(client, user) -> TOTPDevice:
    """Sign in and set up an authenticator; the client is verified after."""
    sign_in(client, user)
    client.get(ENROL)
    device = TOTPDevice.objects.get(user=user, confirmed=False)
    assert client.post(ENROL, {"code": code(device)}).status_code == 200
    device.refresh_from_db()
    return device


@pytest.mark.django_db
def test_a_kommun_administrator_without_an_authenticator_must_enrol_first():
    admin = staff_user("kommunadmin", "1280", StaffRole.ADMIN)
    client = Client()
    sign_in(client, admin)
    home = client.get("/admin/")
    assert home.status_code == 302
    assert home["Location"] == f"{ENROL}?next=%2Fadmin%2F"
    # Everything else in the admin is closed too, but what the page itself loads.
    assert client.get("/admin/connections/")["Location"].startswith(ENROL)
    assert client.get("/admin/sprite/").status_code == 200
    page = client.get(home["Location"])
    assert page.status_code == 200
    text = page.content.decode()
    assert "<svg" in text  # the QR code, inline
    device = TOTPDevice.objects.get(user=admin, confirmed=False)
    secret = re.search(r'class="staffauth-secret">([A-Z2-7]+)<', text).group(1)
    assert base64.b32decode(secret + "=" * (-len(secret) % 8)) == device.bin_key
    # Nothing from another origin on the page.
    assert "https://" not in re.sub(r'xmlns="[^"]+"', "", text.split("<svg")[1])

    wrong = client.post(ENROL, {"code": "000000", "next": "/admin/"})
    assert wrong.status_code == 400
    assert "That code is not right" in wrong.content.decode()
    device.refresh_from_db()
    assert not device.confirmed
    assert client.get("/admin/").status_code == 302

    device.throttle_reset()
    done = client.post(ENROL, {"code": code(device), "next": "/admin/"})
    assert done.status_code == 200
    backup = re.findall(r"<li><code>([a-z2-7]+)</code></li>", done.content.decode())
    assert len(backup) == 10
    assert set(backup) == set(
        StaticToken.objects.filter(device__user=admin).values_list("token", flat=True)
    )
    device.refresh_from_db()
    assert device.confirmed
    assert client.get("/admin/").status_code == 200


@pytest.mark.django_db
def test_a_superuser_must_enrol_too():
    client = Client()
    sign_in(client, superuser())
    assert client.get("/admin/")["Location"].startswith(ENROL)


@pytest.mark.django_db
def test_a_case_handler_without_an_authenticator_goes_straight_in():
    client = Client()
    sign_in(client, case_handler())
    assert client.get("/admin/").status_code == 200


@pytest.mark.django_db
def test_with_an_authenticator_sign_in_asks_for_a_code_after_the_password(settings):
    settings.OTP_TOTP_THROTTLE_FACTOR = 60
    handler = case_handler()
    device = enrolled(Client(), handler)

    client = Client()
    sign_in(client, handler)
    asked = client.get("/admin/deliveries/")
    assert asked["Location"] == f"{VERIFY}?next=%2Fadmin%2Fdeliveries%2F"
    # The authenticator cannot be swapped with the password alone.
    assert client.get(ENROL)["Location"].startswith(VERIFY)
    assert TOTPDevice.objects.filter(user=handler).count() == 1

    wrong = client.post(VERIFY, {"code": "000000", "next": "/admin/deliveries/"})
    assert wrong.status_code == 400
    assert "That code is not right" in wrong.content.decode()
    assert client.get("/admin/")["Location"].startswith(VERIFY)
    # Throttled: right after a wrong code even the right one is refused, unread.
    throttled = client.post(VERIFY, {"code": code(device, 1), "next": "/admin/"})
    assert throttled.status_code == 429
    assert "Too many wrong codes" in throttled.content.decode()
    assert int(throttled["Retry-After"]) > 0
    assert client.get("/admin/")["Location"].startswith(VERIFY)

    device.refresh_from_db()
    device.throttle_reset()
    ok = client.post(VERIFY, {"code": code(device, 1), "next": "/admin/deliveries/"})
    assert ok.status_code == 302
    assert ok["Location"] == "/admin/deliveries/"
    assert client.get("/admin/deliveries/").status_code == 200


@pytest.mark.django_db
def test_a_backup_code_works_once():
    handler = case_handler()
    enrolled(Client(), handler)
    token = StaticToken.objects.filter(device__user=handler).first().token
    first = Client()
    sign_in(first, handler)
    assert first.post(VERIFY, {"code": token, "next": "/admin/"}).status_code == 302
    assert first.get("/admin/").status_code == 200
    again = Client()
    sign_in(again, handler)
    assert again.post(VERIFY, {"code": token}).status_code == 400
    assert again.get("/admin/").status_code == 302


@pytest.mark.django_db
def test_staff_turn_it_off_for_themselves_unless_required():
    handler = case_handler()
    client = Client()
    enrolled(client, handler)
    account = client.get("/admin/account/").content.decode()
    assert "/admin/two-factor/" in account
    assert client.post("/admin/two-factor/off/").status_code == 302
    assert not TOTPDevice.objects.filter(user=handler).exists()

    admin = staff_user("kommunadmin", "1280", StaffRole.ADMIN)
    admin_client = Client()
    enrolled(admin_client, admin)
    refused = admin_client.post("/admin/two-factor/off/", follow=True)
    assert "required for your account" in refused.content.decode()
    assert TOTPDevice.objects.filter(user=admin, confirmed=True).count() == 1


@pytest.mark.skipif(
    bool(os.environ.get("DATABASE_URL")),
    reason="in-process ASGI calls share the embedded profile's test database",
)
@pytest.mark.django_db
def test_on_websockets_a_session_owing_its_code_is_nobody():
    """Channels' AuthMiddleware, then ours, as config.asgi stacks them."""
    handler = case_handler()
    enrolled(Client(), handler)
    half = Client()
    sign_in(half, handler)  # the password only
    whole = Client()
    sign_in(whole, handler)
    device = TOTPDevice.objects.get(user=handler)
    assert whole.post(VERIFY, {"code": code(device, 1)}).status_code == 302
    seen = []

    async def inner(scope, receive, send):
        seen.append(scope["user"].is_authenticated)

    app = AuthMiddleware(SecondFactorScopeMiddleware(inner))

    async def scenario():
        for client in (half, whole):
            store = SessionStore(session_key=client.session.session_key)
            await app({"type": "websocket", "session": store}, None, None)

    # The test's own thread (and its transaction) serves the database calls.
    async_to_sync(scenario)()
    assert seen == [False, True]
