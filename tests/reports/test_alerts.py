"""Alerts of new reports in an area, a kommun or a category of a kommun:
asked for on a page that works without JavaScript, confirmed by an e-mailed
link, sent as at most one digest an hour (also with several schedulers), ended
from a link without signing in; SMS to a number verified by a code, through
the loopback gateway."""

import re
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from django.test import Client
from django.utils import timezone, translation

from devkit.servers import SMSGateway
from municipalities.choices import StaffRole
from reports.alert_services import (
    alert_digest_claim,
    alert_phone_set,
    alert_phone_verify,
    alert_request,
    alerts_digest_step,
)
from reports.choices import AlertKind, ReportStatus
from reports.mail import alert_token
from reports.models import Alert, Subscription
from reports.notifications import followers_notify
from reports.services import report_follow
from tests.support.casehub import LUND, MALMO, confirmed_report
from tests.support.factories import category, kommun
from tests.support.people import staff_user
from workspace.services import report_status_change

pytestmark = pytest.mark.django_db

NEAR_MALMO = (55.6060, 13.0050)  # some 100 m from MALMO
PLACES = [
    {"name": "Stortorget, Malmö, Skåne län, Sverige", "lat": 55.6059, "lon": 13.0007}
]


def _soon():
    """A scheduler's look past the settle time of reports confirmed now."""
    return timezone.now() + timedelta(minutes=1)


def _confirmed_at(report, when) -> None:
    """As if the report had been confirmed at ``when``."""
    type(report).objects.filter(pk=report.pk).update(confirmed_at=when)


def _text(mail) -> str:
    return mail["message"].get_body(("plain",)).get_content()


def _path(url: str) -> str:
    parts = urlsplit(url)
    return parts.path


def _confirm_link(smtp_server, email: str) -> str:
    (body,) = [b for b in smtp_server.bodies_to(email) if "/bevaka/bekrafta/" in b]
    return re.search(r"http://\S+/bevaka/bekrafta/\S+/", body).group(0)


def _area_form(**extra):
    return {
        "kind": "area",
        "lat": f"{MALMO[0]}",
        "lon": f"{MALMO[1]}",
        "radius": "500",
        "email": "eva@example.org",
        **extra,
    }


def _confirmed_alert(client, smtp_server, capture, **form) -> Alert:
    with capture(execute=True):
        answer = client.post("/bevaka/", _area_form(**form))
    assert answer.status_code == 200
    link = _confirm_link(smtp_server, form.get("email", "eva@example.org"))
    client.post(_path(link))
    alert = Alert.objects.get(email=form.get("email", "eva@example.org"))
    assert alert.confirmed_at is not None
    return alert


# --- Asking -------------------------------------------------------------------------


def test_the_map_page_offers_watching_the_area_from_its_centre(client):
    page = client.get("/rapporter/", HTTP_HOST="malmo.localhost").content.decode()
    link = re.search(r'id="watch-area" href="([^"]+)"', page).group(1)
    assert link.startswith("/bevaka/?lat=55.")
    form = client.get(link.replace("&amp;", "&"), HTTP_HOST="malmo.localhost")
    html = form.content.decode()
    assert form.status_code == 200
    # Without JavaScript: the point is in the form, the kommun the site's.
    assert re.search(r'name="lat" value="55\.\d+"', html)
    assert re.search(r'<option value="1280" selected>', html)


@pytest.mark.parametrize("radius", ["0", "500000", "-5", "lots", ""])
def test_a_radius_outside_100_m_to_20_km_is_refused_at_its_field(client, radius):
    with translation.override("en"):
        answer = client.post("/bevaka/", _area_form(radius=radius))
    assert answer.status_code == 400
    html = answer.content.decode()
    assert re.search(
        r'id="id_radius_error">Choose a radius from 100 m to 20 km\.<', html
    )
    assert not Alert.objects.exists()


def test_a_point_outside_the_world_and_a_missing_kommun_are_refused(client):
    answer = client.post("/bevaka/", _area_form(lat="123"))
    assert answer.status_code == 400
    assert 'id="id_lat_error"' in answer.content.decode()
    answer = client.post("/bevaka/", {"kind": "category", "email": "eva@example.org"})
    html = answer.content.decode()
    assert 'id="id_kommun_error">Choose a kommun.<' in html
    assert 'id="id_category_error">Choose a category.<' in html
    assert not Alert.objects.exists()


def test_an_area_alert_works_once_confirmed_by_the_e_mailed_link(
    client, smtp_server, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        answer = client.post("/bevaka/", _area_form(), HTTP_HOST="malmo.localhost")
    assert answer.status_code == 200
    alert = Alert.objects.get()
    assert alert.confirmed_at is None and alert.radius_m == 500
    link = _confirm_link(smtp_server, "eva@example.org")
    # Built from the site's configured address, not the request.
    assert link.startswith("http://malmo.localhost/bevaka/bekrafta/")
    # Opening asks (mail scanners fetch links); the POST confirms.
    assert client.get(_path(link)).status_code == 200
    alert.refresh_from_db()
    assert alert.confirmed_at is None
    done = client.post(_path(link))
    assert done.status_code == 302 and "/bevakning/" in done["Location"]
    alert.refresh_from_db()
    assert alert.confirmed_at is not None and alert.told_until is not None
    # Used: a second opening says so, changes nothing.
    assert client.post(_path(link)).status_code == 410


def test_asking_again_sends_a_new_link_only_while_unconfirmed(
    client, smtp_server, django_capture_on_commit_callbacks
):
    _confirmed_alert(client, smtp_server, django_capture_on_commit_callbacks)
    with django_capture_on_commit_callbacks(execute=True):
        again = client.post("/bevaka/", _area_form())
    assert again.status_code == 200  # the same answer
    assert Alert.objects.count() == 1
    assert len(smtp_server.bodies_to("eva@example.org")) == 1


def test_a_typed_address_gives_the_point(
    client, smtp_server, nominatim, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        answer = client.post(
            "/bevaka/", _area_form(lat="", lon="", adress="Stortorget")
        )
    assert answer.status_code == 200
    alert = Alert.objects.get()
    assert (round(alert.lat, 4), round(alert.lon, 4)) == (55.6059, 13.0007)


def test_an_address_without_place_search_asks_for_the_place_another_way(
    client, settings
):
    settings.KNUTPUNKT_GEOCODER = {
        "domain": "127.0.0.1:9",  # discard port: nothing listens
        "scheme": "http",
        "user_agent": "knutpunkt-tests",
        "timeout": 2.0,
    }
    with translation.override("en"):
        answer = client.post(
            "/bevaka/", _area_form(lat="", lon="", adress="Stortorget")
        )
    assert answer.status_code == 400
    # Said at the field, as the report form says it: the coordinates and the
    # kommun are below it.
    assert re.search(
        r'id="id_adress_error">Place search is unavailable right now\. '
        r"Give the place another way below\.<",
        answer.content.decode(),
    )
    assert not Alert.objects.exists()


# --- Digests ------------------------------------------------------------------------


def test_a_new_report_in_the_area_reaches_the_alert_in_one_digest(
    client, smtp_server, django_capture_on_commit_callbacks
):
    alert = _confirmed_alert(client, smtp_server, django_capture_on_commit_callbacks)
    near = confirmed_report(point=NEAR_MALMO, title="Trasig lykta nära")
    confirmed_report(point=LUND, title="Långt borta i Lund")
    with django_capture_on_commit_callbacks(execute=True):
        assert alerts_digest_step(_soon()) == [alert.pk]
    (mail,) = [m for m in smtp_server.messages if "Trasig lykta" in _text(m)]
    body = _text(mail)
    assert "Trasig lykta nära" in body and "Långt borta" not in body
    assert f"http://malmo.localhost/rapporter/{near.pk}/" in body
    # Nothing about who reported.
    assert "Anna" not in body and "anna@example.org" not in body
    unsubscribe = mail["message"]["List-Unsubscribe"].strip()
    assert re.fullmatch(r"<http://localhost/bevakning/\S+/avsluta/>", unsubscribe)
    assert mail["message"]["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"


def test_at_most_one_digest_an_hour_then_the_reports_since(
    client, smtp_server, django_capture_on_commit_callbacks
):
    alert = _confirmed_alert(client, smtp_server, django_capture_on_commit_callbacks)
    confirmed_report(point=NEAR_MALMO, title="Första")
    now = _soon()
    with django_capture_on_commit_callbacks(execute=True):
        assert alerts_digest_step(now) == [alert.pk]
        _confirmed_at(confirmed_report(point=NEAR_MALMO, title="Andra"), now)
        assert alerts_digest_step(now + timedelta(minutes=1)) == []
        assert alerts_digest_step(now + timedelta(minutes=59)) == []
        assert alerts_digest_step(now + timedelta(minutes=61)) == [alert.pk]
        # Nothing new: nothing sent, nothing claimed.
        assert alerts_digest_step(now + timedelta(hours=3)) == []
    digests = [b for b in smtp_server.bodies_to("eva@example.org") if "bevakning" in b]
    assert len(digests) == 2
    assert "Första" in digests[0] and "Andra" not in digests[0]
    assert "Andra" in digests[1] and "Första" not in digests[1]


def test_two_schedulers_claiming_the_same_hour_send_one_digest(
    client, smtp_server, django_capture_on_commit_callbacks
):
    alert = _confirmed_alert(client, smtp_server, django_capture_on_commit_callbacks)
    confirmed_report(point=NEAR_MALMO, title="Första")
    # Each process read the alert before either claimed it.
    seen_by_one, seen_by_other = Alert.objects.get(), Alert.objects.get()
    now = _soon()
    with django_capture_on_commit_callbacks(execute=True):
        first = alert_digest_claim(alert=seen_by_one, now=now)
        second = alert_digest_claim(alert=seen_by_other, now=now + timedelta(seconds=5))
    assert (first, second) == (True, False)
    digests = [b for b in smtp_server.bodies_to("eva@example.org") if "Första" in b]
    assert len(digests) == 1
    alert.refresh_from_db()
    assert alert.digest_at == now


def test_kommun_and_category_alerts_match_only_their_reports(
    smtp_server, django_capture_on_commit_callbacks
):
    malmo = kommun()
    with django_capture_on_commit_callbacks(execute=True):
        whole = alert_request(
            kind=AlertKind.KOMMUN, email="k@example.org", municipality=malmo
        )
        lamps = alert_request(
            kind=AlertKind.CATEGORY,
            email="c@example.org",
            municipality=malmo,
            category=category("gatubelysning"),
        )
    now = timezone.now()
    Alert.objects.filter(pk__in=[whole.pk, lamps.pk]).update(
        confirmed_at=now, told_until=now
    )
    confirmed_report(title="Lampa i Malmö")
    confirmed_report(title="Klotter i Malmö", category=category("klotter"))
    confirmed_report(point=LUND, title="Lampa i Lund")
    with django_capture_on_commit_callbacks(execute=True):
        claimed = alerts_digest_step(_soon())
    assert sorted(claimed) == sorted([whole.pk, lamps.pk])
    (to_kommun,) = smtp_server.bodies_to("k@example.org")[-1:]
    (to_category,) = smtp_server.bodies_to("c@example.org")[-1:]
    assert "Lampa i Malmö" in to_kommun and "Klotter i Malmö" in to_kommun
    assert "Lampa i Lund" not in to_kommun
    assert "Lampa i Malmö" in to_category and "Klotter" not in to_category


def test_an_unconfirmed_alert_gets_nothing(
    client, smtp_server, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        client.post("/bevaka/", _area_form())
        confirmed_report(point=NEAR_MALMO)
        assert alerts_digest_step(_soon()) == []


# --- Ending -------------------------------------------------------------------------


def test_the_alert_ends_from_its_link_without_signing_in_also_one_click(
    client, smtp_server, django_capture_on_commit_callbacks
):
    _confirmed_alert(client, smtp_server, django_capture_on_commit_callbacks)
    confirmed_report(point=NEAR_MALMO, title="Första")
    with django_capture_on_commit_callbacks(execute=True):
        alerts_digest_step(_soon())
    digest = [b for b in smtp_server.bodies_to("eva@example.org") if "Första" in b][0]
    end = re.search(r"http://\S+/bevakning/\S+/avsluta/", digest).group(0)
    stranger = Client(enforce_csrf_checks=True)
    asked = stranger.get(_path(end))
    assert asked.status_code == 200 and Alert.objects.exists()
    # A mail program's one-click POST (RFC 8058): no session, no CSRF token.
    done = stranger.post(_path(end), {"List-Unsubscribe": "One-Click"})
    assert done.status_code == 200
    assert not Alert.objects.exists()
    again = stranger.post(_path(end))
    assert again.status_code == 200
    assert stranger.get("/bevakning/not-a-token/avsluta/").status_code == 404


def test_followers_status_e_mails_carry_list_unsubscribe(
    client, smtp_server, django_capture_on_commit_callbacks
):
    report = confirmed_report()
    report_follow(report=report, email="granne@example.org", user=None)
    Subscription.objects.update(confirmed_at=timezone.now())
    handler = staff_user("gata", "1280", StaffRole.CASE_HANDLER)
    report_status_change(
        actor=handler, report_id=report.pk, status=ReportStatus.IN_PROGRESS
    )
    followers_notify(report.pk)
    (mail,) = [m for m in smtp_server.messages if "granne@example.org" in m["to"]]
    assert re.fullmatch(
        r"<http://\S+/avfolj/\S+/>", mail["message"]["List-Unsubscribe"].strip()
    )
    assert mail["message"]["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"


# --- SMS ----------------------------------------------------------------------------


@pytest.fixture
def sms_gateway(settings, monkeypatch):
    """The loopback gateway, configured as the operator would."""
    with SMSGateway(token="sms-test-token") as gateway:
        settings.KNUTPUNKT_SMS_GATEWAY = {
            "url": gateway.url,
            "token_env": "KNUTPUNKT_TEST_SMS_TOKEN",
            "timeout": 2.0,
        }
        monkeypatch.setenv("KNUTPUNKT_TEST_SMS_TOKEN", "sms-test-token")
        yield gateway


def _manage_path(smtp_server) -> str:
    for body in smtp_server.bodies_to("eva@example.org"):
        found = re.search(r"http://\S+/bevakning/[^/\s]+/(?=\s)", body)
        if found:
            return _path(found.group(0))
    raise AssertionError("no alert page link")


def test_a_number_verified_by_its_code_gets_the_digest_by_sms(
    client, smtp_server, sms_gateway, django_capture_on_commit_callbacks
):
    alert = _confirmed_alert(client, smtp_server, django_capture_on_commit_callbacks)
    page = client.get(f"/bevakning/{_token(alert)}/")
    assert 'name="phone"' in page.content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            f"/bevakning/{_token(alert)}/",
            {"action": "phone", "phone": "070-123 45 67"},
        )
    (text,) = sms_gateway.texts_to("+46701234567")
    code = re.search(r"\b(\d{6})\b", text).group(1)
    alert.refresh_from_db()
    assert alert.phone == "+46701234567" and code not in alert.phone_code_hash
    # Not verified yet: a digest goes by e-mail only.
    confirmed_report(point=NEAR_MALMO, title="Första")
    with django_capture_on_commit_callbacks(execute=True):
        alerts_digest_step(_soon())
    assert len(sms_gateway.messages) == 1
    wrong = "000000" if code != "000000" else "111111"
    refused = client.post(
        f"/bevakning/{_token(alert)}/", {"action": "code", "code": wrong}
    )
    assert refused.status_code == 400
    assert 'id="id_code_error"' in refused.content.decode()
    client.post(f"/bevakning/{_token(alert)}/", {"action": "code", "code": code})
    alert.refresh_from_db()
    assert alert.phone_verified_at is not None
    _confirmed_at(
        confirmed_report(point=NEAR_MALMO, title="Andra"),
        timezone.now() + timedelta(hours=1),
    )
    with django_capture_on_commit_callbacks(execute=True):
        alerts_digest_step(timezone.now() + timedelta(hours=2))
    texts = sms_gateway.texts_to("+46701234567")
    assert len(texts) == 2 and "Andra" in texts[1]
    assert "/rapporter/" in texts[1]
    assert sms_gateway.rejected == []


def test_a_code_works_a_few_tries_and_not_once_expired(
    client, smtp_server, sms_gateway, settings, django_capture_on_commit_callbacks
):
    alert = _confirmed_alert(client, smtp_server, django_capture_on_commit_callbacks)
    with django_capture_on_commit_callbacks(execute=True):
        alert_phone_set(alert_id=alert.pk, phone="+46 70 765 43 21")
    (text,) = sms_gateway.texts_to("+46707654321")
    code = re.search(r"\b(\d{6})\b", text).group(1)
    wrong = "000000" if code != "000000" else "111111"
    for _ in range(settings.KNUTPUNKT_SMS_CODE_TRIES):
        with pytest.raises(Exception, match="not right"):
            with translation.override("en"):
                alert_phone_verify(alert_id=alert.pk, code=wrong)
    # Out of tries: even the right code is refused now.
    with pytest.raises(Exception, match="expired"):
        with translation.override("en"):
            alert_phone_verify(alert_id=alert.pk, code=code)
    alert.refresh_from_db()
    assert alert.phone_verified_at is None


def test_without_a_gateway_no_sms_is_offered(
    client, smtp_server, django_capture_on_commit_callbacks
):
    alert = _confirmed_alert(client, smtp_server, django_capture_on_commit_callbacks)
    page = client.get(f"/bevakning/{_token(alert)}/").content.decode()
    assert 'name="phone"' not in page
    answer = client.post(
        f"/bevakning/{_token(alert)}/", {"action": "phone", "phone": "0701234567"}
    )
    assert answer.status_code == 400
    alert.refresh_from_db()
    assert alert.phone == ""


def test_a_bad_number_is_refused_at_its_field(
    client, smtp_server, sms_gateway, django_capture_on_commit_callbacks
):
    alert = _confirmed_alert(client, smtp_server, django_capture_on_commit_callbacks)
    with translation.override("en"):
        answer = client.post(
            f"/bevakning/{_token(alert)}/", {"action": "phone", "phone": "hej"}
        )
    assert answer.status_code == 400
    assert (
        'id="id_phone_error">Enter a mobile phone number.<' in answer.content.decode()
    )
    assert sms_gateway.messages == []


def _token(alert: Alert) -> str:
    return alert_token(alert.pk)
