"""Citizens' accounts on the public pages: sign-up by an e-mailed link (what
was made with the address joins the account), sign-in with a password or a
link, password reset by a link, sign-out; throttled sign-in; no page tells
whether an address has an account; staff and citizens each keep to their own
sign-in."""

from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.utils import timezone, translation

from citizens.models import Citizen
from citizens.services import citizen_confirm
from municipalities.choices import StaffRole
from reports.choices import AlertKind
from reports.models import Alert, MyReportsLink, Report, Subscription
from reports.services import report_follow
from tests.citizens.conftest import link_path, page_text
from tests.support.factories import report
from tests.support.people import PASSWORD, staff_user

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "gatlykta-vid-stortorget-7"


def sign_up(client, email, django_capture_on_commit_callbacks, **extra):
    with django_capture_on_commit_callbacks(execute=True):
        return client.post("/konto/skapa/", {"email": email, **extra})


def signed_in_user(client):
    return (
        get_user_model().objects.filter(pk=client.session.get("_auth_user_id")).first()
    )


def test_signing_up_by_the_emailed_link_joins_earlier_reports_and_follows(
    client, smtp_server, django_capture_on_commit_callbacks
):
    earlier = report(email="sara@example.org", name="Sara", title="Min lampa")
    other = report(email="bo@example.org", title="Bos lampa")
    followed = report(email="bo@example.org", title="Grannens lampa")
    report_follow(report=followed, email="Sara@Example.org")
    watching = Alert.objects.create(
        kind=AlertKind.KOMMUN,
        email="sara@example.org",
        municipality=earlier.municipality,
        confirmed_at=timezone.now(),
    )
    answer = sign_up(
        client, " Sara@Example.org ", django_capture_on_commit_callbacks, name="Sara S"
    )
    assert answer.status_code == 200
    assert "If sara@example.org can be given a link" in answer.content.decode()
    assert not Citizen.objects.exists()  # nothing is made before the link is used
    path = link_path(smtp_server, "sara@example.org", "/konto/skapa/")
    # Opening asks first (mail scanners fetch links); nothing is used yet.
    asked = client.get(path)
    assert asked.status_code == 200 and not Citizen.objects.exists()
    done = client.post(path)
    assert done.status_code == 302 and done["Location"] == "/konto/"
    user = signed_in_user(client)
    assert user.citizen and user.email == "sara@example.org"
    assert user.first_name == "Sara S" and not user.has_usable_password()
    earlier.refresh_from_db()
    assert earlier.reporter == user
    assert Report.objects.get(pk=other.pk).reporter is None
    assert Subscription.objects.get(report=followed).user == user
    assert Alert.objects.get(pk=watching.pk).user == user
    mine = client.get("/mina-sidor/").content.decode()
    assert "Min lampa" in mine and "Bos lampa" not in mine
    assert f"in {earlier.municipality.name}" in mine  # the alert, listed
    # The link worked once.
    assert client.post(path).status_code == 410


def test_sign_up_answers_the_same_for_every_address(
    client, smtp_server, django_capture_on_commit_callbacks
):
    citizen_confirm(email="har-konto@example.org")
    staff_user("handlaggare", "1280", StaffRole.CASE_HANDLER)  # handlaggare@…
    answers = [
        sign_up(Client(), email, django_capture_on_commit_callbacks)
        for email in (
            "ny@example.org",
            "har-konto@example.org",
            "handlaggare@example.org",
        )
    ]
    pages = [
        (a.status_code, page_text(a, email))
        for a, email in zip(
            answers,
            ("ny@example.org", "har-konto@example.org", "handlaggare@example.org"),
            strict=True,
        )
    ]
    assert pages[0] == pages[1] == pages[2]
    # Only the e-mail differs: a new address gets a sign-up link, one with an
    # account a sign-in link, a member of staff's address nothing.
    link_path(smtp_server, "ny@example.org", "/konto/skapa/")
    link_path(smtp_server, "har-konto@example.org", "/konto/logga-in/lank/")
    assert smtp_server.bodies_to("handlaggare@example.org") == []
    assert not Citizen.objects.filter(user__email="handlaggare@example.org").exists()


def test_an_expired_or_unknown_sign_up_link_is_a_clear_410(
    client, smtp_server, django_capture_on_commit_callbacks
):
    sign_up(client, "sara@example.org", django_capture_on_commit_callbacks)
    path = link_path(smtp_server, "sara@example.org", "/konto/skapa/")
    MyReportsLink.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    for answer in (client.get(path), client.post(path), client.get(path[:-4] + "xx/")):
        assert answer.status_code == 410
        assert 'id="link-invalid"' in answer.content.decode()
    assert not Citizen.objects.exists() and signed_in_user(client) is None
    # A sign-up link does not sign in, nor a sign-in link sign up.
    token = path.rstrip("/").rsplit("/", 1)[1]
    assert client.post(f"/konto/logga-in/lank/{token}/").status_code == 410


def test_password_reset_by_link_then_sign_in_and_out_with_the_password(
    client, smtp_server, django_capture_on_commit_callbacks
):
    citizen_confirm(email="sara@example.org")
    page = client.get("/konto/logga-in/").content.decode()
    assert 'action="/konto/logga-in/lank/"' in page
    with django_capture_on_commit_callbacks(execute=True):
        asked = client.post("/konto/logga-in/lank/", {"email": "sara@example.org"})
        unknown = Client().post("/konto/logga-in/lank/", {"email": "ny@example.org"})
    assert asked.status_code == unknown.status_code == 200
    assert page_text(asked, "sara@example.org") == page_text(unknown, "ny@example.org")
    assert smtp_server.bodies_to("ny@example.org") == []
    path = link_path(smtp_server, "sara@example.org", "/konto/logga-in/lank/")
    assert client.post(path)["Location"] == "/konto/"
    # Signed in by a link: a new password without the old one.
    with translation.override("en"):
        short = client.post("/konto/", {"password": "123"})
    assert short.status_code == 400 and "password_error" in short.content.decode()
    saved = client.post("/konto/", {"password": NEW_PASSWORD})
    assert saved.status_code == 200 and 'id="password-saved"' in saved.content.decode()
    assert client.post("/konto/logga-ut/").status_code == 302
    assert signed_in_user(client) is None
    fresh = Client()
    signed = fresh.post(
        "/konto/logga-in/", {"email": "SARA@example.org", "password": NEW_PASSWORD}
    )
    assert signed.status_code == 302 and signed["Location"] == "/mina-sidor/"
    # Signed in with the password: changing it takes a link first.
    assert fresh.post("/konto/", {"password": "annat-langt-losen-9"}).status_code == 403


def test_a_wrong_password_an_unknown_address_and_a_staff_account_read_the_same(
    client,
):
    user = citizen_confirm(email="sara@example.org")
    user.set_password(NEW_PASSWORD)
    user.save()
    staff_user("handlaggare", "1280", StaffRole.CASE_HANDLER)
    answers = [
        Client().post("/konto/logga-in/", {"email": email, "password": password})
        for email, password in (
            ("sara@example.org", "fel-losenord"),
            ("okand@example.org", NEW_PASSWORD),
            ("handlaggare@example.org", PASSWORD),
        )
    ]
    assert {a.status_code for a in answers} == {400}
    pages = {
        page_text(a, email)
        for a, email in zip(
            answers,
            ("sara@example.org", "okand@example.org", "handlaggare@example.org"),
            strict=True,
        )
    }
    assert len(pages) == 1
    assert "do not match an account" in pages.pop()


def test_sign_in_floods_are_answered_429_with_retry_after(client, settings):
    settings.KNUTPUNKT_RATE_LIMITS = {
        **settings.KNUTPUNKT_RATE_LIMITS,
        "citizen_sign_in_account": (3, 900),
        "citizen_sign_in": (5, 900),
    }
    user = citizen_confirm(email="sara@example.org")
    user.set_password(NEW_PASSWORD)
    user.save()
    for _ in range(3):
        wrong = client.post(
            "/konto/logga-in/", {"email": "sara@example.org", "password": "fel"}
        )
        assert wrong.status_code == 400
    # Past the account's limit, even the right password is not tried.
    flooded = client.post(
        "/konto/logga-in/", {"email": "sara@example.org", "password": NEW_PASSWORD}
    )
    assert flooded.status_code == 429
    assert 0 < int(flooded["Retry-After"]) <= 900
    assert "Too many sign-in attempts" in flooded.content.decode()
    assert signed_in_user(client) is None
    # Per client address too, whatever addresses are tried.
    client.post("/konto/logga-in/", {"email": "a@example.org", "password": "x"})
    spread = client.post(
        "/konto/logga-in/", {"email": "b@example.org", "password": "x"}
    )
    assert spread.status_code == 429 and spread["Retry-After"]


def test_link_floods_are_429_per_client_and_silent_per_address(
    client, settings, smtp_server, django_capture_on_commit_callbacks
):
    settings.KNUTPUNKT_RATE_LIMITS = {
        **settings.KNUTPUNKT_RATE_LIMITS,
        "citizen_link": (4, 3600),
        "citizen_link_email": (2, 3600),
    }
    with django_capture_on_commit_callbacks(execute=True):
        answers = [
            client.post("/konto/skapa/", {"email": "sara@example.org"})
            for _ in range(5)
        ]
    assert [a.status_code for a in answers] == [200, 200, 200, 200, 429]
    assert answers[-1]["Retry-After"]
    # Past the address's limit the answer is the same, and nothing is sent.
    assert page_text(answers[2]) == page_text(answers[0])
    assert len(smtp_server.bodies_to("sara@example.org")) == 2


def test_bad_input_is_an_error_at_the_field(client):
    answer = client.post("/konto/skapa/", {"email": "inte-en-adress"})
    assert answer.status_code == 400
    assert 'id="id_email_error"' in answer.content.decode()
    answer = client.post("/konto/logga-in/", {"email": "", "password": ""})
    assert answer.status_code == 400
    assert client.get("/konto/").status_code == 302  # the account page asks first


def test_mina_sidor_links_to_the_public_sign_in(client):
    page = client.get("/mina-sidor/").content.decode()
    assert 'href="/konto/logga-in/"' in page and 'href="/konto/skapa/"' in page
    assert client.get("/konto/logga-in/").status_code == 200


def test_citizens_cannot_sign_in_to_the_admin(client):
    user = citizen_confirm(email="sara@example.org")
    user.set_password(NEW_PASSWORD)
    user.save()
    with translation.override("en"):
        answer = client.post(
            "/admin/login/", {"username": user.username, "password": NEW_PASSWORD}
        )
    assert answer.status_code == 200
    assert "This sign-in is for the staff" in answer.content.decode()
    assert signed_in_user(client) is None
    assert client.get("/admin/").status_code == 302


def test_staff_cannot_become_citizens_nor_sign_in_on_the_public_pages():
    staff = staff_user("handlaggare", "1280", StaffRole.CASE_HANDLER)
    # Even given a citizen's record, a staff account is not a citizen.
    Citizen.objects.create(user=staff)
    client = Client()
    answer = client.post(
        "/konto/logga-in/",
        {"email": "handlaggare@example.org", "password": PASSWORD},
    )
    assert answer.status_code == 400 and signed_in_user(client) is None
    client.force_login(staff)
    assert client.get("/konto/")["Location"].startswith("/konto/logga-in/")
