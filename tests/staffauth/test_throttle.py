"""Failed sign-ins and password-reset requests are throttled per account and per
client address, with a clear message; a right password during a lockout does not
sign in, and beyond the limit no reset e-mail is sent."""

import pytest
from axes.models import AccessAttempt
from django.core import mail
from django.core.cache import cache
from django.test import Client

from municipalities.choices import StaffRole
from tests.support.people import PASSWORD, case_handler, staff_user

LOGIN = "/admin/login/"
RESET = "/admin/password_reset/"


@pytest.fixture(autouse=True)
def _limits(settings):
    settings.KNUTPUNKT_STAFF_LOGIN_LIMITS = {
        "account_address": 5,
        "address": 20,
        "account": 50,
        "cooloff_minutes": 15,
    }
    settings.KNUTPUNKT_RATE_LIMITS = {
        **settings.KNUTPUNKT_RATE_LIMITS,
        "password_reset_address": (5, 3600),
        "password_reset_account": (3, 3600),
    }
    cache.clear()
    yield
    cache.clear()


def sign_in(client, username, password, **extra):
    return client.post(LOGIN, {"username": username, "password": password}, **extra)


def signed_in(client) -> bool:
    return "_auth_user_id" in client.session


@pytest.mark.django_db
def test_forty_wrong_passwords_then_the_right_one_is_refused():
    user = case_handler()
    client = Client()
    statuses = [sign_in(client, user.username, "fel").status_code for _ in range(40)]
    # Four ordinary refusals, then the lockout from the fifth failure on.
    assert statuses == [200] * 4 + [429] * 36
    right = sign_in(client, user.username, PASSWORD)
    assert right.status_code == 429
    assert right["Retry-After"] == str(15 * 60)
    text = right.content.decode()
    assert "Too many failed sign-in attempts" in text
    assert "paused for 15 minutes" in text
    # The sign-in page itself, with its form, not a bare page.
    assert 'name="username"' in text and 'name="password"' in text
    assert not signed_in(client)
    user.refresh_from_db()
    assert user.last_login is None
    # Guesses during the lockout were not recorded (nor lengthen it).
    assert AccessAttempt.objects.get(username=user.username).failures_since_start == 5


@pytest.mark.django_db
def test_the_lockout_message_is_in_swedish_by_default(settings):
    settings.LANGUAGE_CODE = "sv"  # the default outside tests
    user = case_handler()
    client = Client()
    for _ in range(5):
        sign_in(client, user.username, "fel")
    page = sign_in(client, user.username, PASSWORD)
    assert page.status_code == 429
    assert "För många misslyckade inloggningsförsök" in page.content.decode()


@pytest.mark.django_db
def test_one_address_trying_many_accounts_is_locked_out_of_all_of_them():
    victim = case_handler()
    client = Client(REMOTE_ADDR="198.51.100.7")
    statuses = [sign_in(client, f"gissning-{n}", "fel").status_code for n in range(20)]
    assert statuses == [200] * 19 + [429]
    # Even the right password of an account never tried from here is refused...
    assert sign_in(client, victim.username, PASSWORD).status_code == 429
    assert not signed_in(client)
    # ...while the same account signs in from another address.
    elsewhere = Client(REMOTE_ADDR="198.51.100.8")
    assert sign_in(elsewhere, victim.username, PASSWORD).status_code == 302
    assert signed_in(elsewhere)


@pytest.mark.django_db
def test_one_account_tried_from_many_addresses_is_locked_out(settings):
    settings.KNUTPUNKT_STAFF_LOGIN_LIMITS["account"] = 8
    user = case_handler()
    statuses = [
        sign_in(Client(REMOTE_ADDR=f"203.0.113.{n}"), user.username, "fel").status_code
        for n in range(8)
    ]
    assert statuses == [200] * 7 + [429]
    fresh = Client(REMOTE_ADDR="203.0.113.200")
    assert sign_in(fresh, user.username, PASSWORD).status_code == 429
    assert not signed_in(fresh)


@pytest.mark.django_db
def test_the_address_is_the_trusted_proxys_entry(settings):
    """Behind one proxy the client is the last X-Forwarded-For entry; what the
    client writes to the left of it does not get it out of a lockout."""
    settings.KNUTPUNKT_TRUSTED_PROXIES = 1
    user = case_handler()
    proxy = {"REMOTE_ADDR": "10.0.0.1"}
    attacker = Client(headers={"x-forwarded-for": "192.0.2.50"}, **proxy)
    for _ in range(5):
        sign_in(attacker, user.username, "fel")
    spoofing = Client(headers={"x-forwarded-for": "192.0.2.99, 192.0.2.50"}, **proxy)
    assert sign_in(spoofing, user.username, PASSWORD).status_code == 429
    assert AccessAttempt.objects.get().ip_address == "192.0.2.50"
    # The real user, reaching the same proxy from elsewhere, signs in.
    colleague = Client(headers={"x-forwarded-for": "192.0.2.51"}, **proxy)
    assert sign_in(colleague, user.username, PASSWORD).status_code == 302


@pytest.mark.django_db
def test_a_successful_sign_in_clears_only_that_accounts_failures_from_that_address():
    user = case_handler()
    other = staff_user("annan", "1280", StaffRole.CASE_HANDLER)
    client = Client(REMOTE_ADDR="198.51.100.20")
    for _ in range(4):
        assert sign_in(client, user.username, "fel").status_code == 200
    for _ in range(3):
        assert sign_in(client, f"gissning-{_}", "fel").status_code == 200
    assert sign_in(client, user.username, PASSWORD).status_code == 302
    client.logout()
    assert not AccessAttempt.objects.filter(username=user.username).exists()
    # The guesses at other accounts from this address still count.
    assert AccessAttempt.objects.filter(ip_address="198.51.100.20").count() == 3
    for _ in range(4):
        assert sign_in(client, user.username, "fel").status_code == 200
    assert sign_in(client, user.username, "fel").status_code == 429
    assert sign_in(client, other.username, PASSWORD).status_code == 302


# --- Password reset ------------------------------------------------------------


@pytest.mark.django_db
def test_password_resets_for_one_account_stop_at_the_limit_and_send_nothing_more():
    user = case_handler()
    statuses = []
    for n in range(5):
        # From different addresses, so only the account's limit applies.
        client = Client(REMOTE_ADDR=f"198.51.100.{30 + n}")
        statuses.append(client.post(RESET, {"email": user.email}).status_code)
    assert statuses == [302, 302, 302, 429, 429]
    assert len(mail.outbox) == 3
    assert all(message.to == [user.email] for message in mail.outbox)
    page = Client().post(RESET, {"email": user.email.upper()})
    assert page.status_code == 429
    assert int(page["Retry-After"]) > 0
    text = page.content.decode()
    assert "Too many password-reset requests. No e-mail was sent" in text
    # The form keeps what was typed.
    assert f'value="{user.email.upper()}"' in text
    assert len(mail.outbox) == 3


@pytest.mark.django_db
def test_password_resets_from_one_address_stop_at_the_limit():
    user = case_handler()
    client = Client(REMOTE_ADDR="198.51.100.60")
    statuses = [
        client.post(RESET, {"email": f"nobody-{n}@example.org"}).status_code
        for n in range(5)
    ]
    assert statuses == [302] * 5
    assert mail.outbox == []  # no such accounts: nothing sent, as before
    refused = client.post(RESET, {"email": user.email})
    assert refused.status_code == 429
    assert mail.outbox == []
    # Another address may still ask for the same account.
    assert Client().post(RESET, {"email": user.email}).status_code == 302
    assert len(mail.outbox) == 1
