"""The loopback stand-ins for case systems behave like the real thing over HTTP."""

from __future__ import annotations

import json
import threading
import time
import urllib.error
import urllib.request
from urllib.parse import urlencode

import pytest

from devkit import webhooks
from devkit.servers import Open311Server, WebhookReceiver
from devkit.webhooks import make_secret, signature

API_KEY = "nyckel-123"


def call(url, form=None, headers=None, body=None, method=None):
    """(status, headers, parsed JSON or raw bytes) of one real HTTP exchange."""
    if form is not None:
        body = urlencode(form, doseq=True).encode()
        headers = {
            "Content-Type": "application/x-www-form-urlencoded",
            **(headers or {}),
        }
    request = urllib.request.Request(  # noqa: S310 (loopback http only)
        url, data=body, headers=headers or {}, method=method
    )
    try:
        with urllib.request.urlopen(request, timeout=5) as response:  # noqa: S310
            status, answer_headers, raw = (
                response.status,
                response.headers,
                response.read(),
            )
    except urllib.error.HTTPError as error:
        with error:
            status, answer_headers, raw = error.code, error.headers, error.read()
    try:
        data = json.loads(raw)
    except ValueError:
        data = raw
    return status, answer_headers, data


def case_form(**extra):
    return {
        "api_key": API_KEY,
        "service_code": "001",
        "lat": "59.3293",
        "long": "18.0686",
        "description": "Lampan är trasig",
        **extra,
    }


@pytest.fixture
def open311():
    with Open311Server(api_key=API_KEY) as server:
        yield server


# Open311 ----------------------------------------------------------------------


def test_services_and_definitions():
    definition = {"service_code": "002", "attributes": [{"code": "kind"}]}
    services = [{**Open311Server.DEFAULT_SERVICE, "service_code": "002"}]
    with Open311Server(services=services, definitions={"002": definition}) as server:
        assert call(server.url + "services.json")[::2] == (200, services)
        assert call(server.url + "services/002.json")[::2] == (200, definition)
        status, _, errors = call(server.url + "services/999.json")
        assert status == 404 and errors[0]["code"] == 404


def test_create_answers_201_with_an_id_and_keeps_every_field(open311):
    form = case_form(**{"attribute[kind][]": ["a", "b"], "email": ""})
    status, headers, answer = call(open311.url + "requests.json", form)
    assert status == 201
    assert answer == [
        {"service_request_id": "1001", "service_notice": "", "account_id": None}
    ]
    assert headers["Content-Length"] == str(len(json.dumps(answer)))
    recorded = open311.requests[0]
    assert recorded["form"]["attribute[kind][]"] == ["a", "b"]
    assert recorded["form"]["email"] == ""
    assert recorded["key"] is None
    assert open311.cases[0]["service_request_id"] == "1001"
    status, _, case = call(open311.url + "requests/1001.json")
    assert status == 200 and case[0]["service_code"] == "001"


def update_form(**extra):
    return {
        "api_key": API_KEY,
        "service_request_id": "1001",
        "update_id": "42",
        "status": "FIXED",
        "updated_datetime": "2026-12-06T10:00:00Z",
        "description": "Lagad.",
        "email": "svar@example.org",
        "first_name": "Knutpunkt",
        "last_name": "-",
        **extra,
    }


def test_posted_updates_are_taken_once_per_update_id_in_json_or_xml(open311):
    call(open311.url + "requests.json", case_form())
    status, _, answer = call(open311.url + "servicerequestupdates.json", update_form())
    assert (status, answer) == (200, [{"update_id": "U1"}])
    status, headers, xml = call(
        open311.url + "servicerequestupdates.xml", update_form()
    )
    assert status == 200 and headers["Content-Type"].startswith("text/xml")
    assert b"<update_id>U1</update_id>" in xml
    assert len(open311.update_posts) == 2 and len(open311.updates_received) == 1
    for form, code in (
        (update_form(status="DONE"), 400),
        (update_form(description=""), 400),
        (update_form(service_request_id="9999"), 404),
        (update_form(api_key="fel"), 403),
    ):
        assert call(open311.url + "servicerequestupdates.json", form)[0] == code
    open311.fail_updates, open311.retry_after = 1, "7"
    status, headers, _ = call(open311.url + "servicerequestupdates.json", update_form())
    assert (status, headers["Retry-After"]) == (503, "7")
    assert len(open311.updates_received) == 1


def test_same_idempotency_key_makes_one_case(open311):
    headers = {"Idempotency-Key": "leverans-7"}
    first = call(open311.url + "requests.json", case_form(), headers)
    second = call(open311.url + "requests.json", case_form(), headers)
    other = call(open311.url + "requests.json", case_form(), {"Idempotency-Key": "x"})
    assert first[0] == second[0] == 201
    assert first[2][0]["service_request_id"] == second[2][0]["service_request_id"]
    assert other[2][0]["service_request_id"] == "1002"
    assert len(open311.requests) == 3 and len(open311.cases) == 2
    assert open311.requests[1]["key"] == "leverans-7"
    assert open311.requests[1]["headers"]["idempotency-key"] == "leverans-7"


def test_validation_errors(open311):
    status, _, errors = call(open311.url + "requests.json", case_form(service_code="9"))
    assert status == 400 and "service_code" in errors[0]["description"]
    status, _, errors = call(open311.url + "requests.json", case_form(api_key="fel"))
    assert status == 403 and errors == [
        {"code": 403, "description": errors[0]["description"]}
    ]
    form = case_form()
    del form["lat"]
    assert call(open311.url + "requests.json", form)[0] == 400
    assert (
        call(open311.url + "requests.json", {**form, "address_string": "Gata 1"})[0]
        == 201
    )
    assert len(open311.cases) == 1


def test_jurisdiction_is_checked():
    with Open311Server(jurisdiction_id="stad.se") as server:
        assert call(server.url + "requests.json", case_form())[0] == 400
        form = case_form(jurisdiction_id="stad.se")
        assert call(server.url + "requests.json", form)[0] == 201


def test_token_mode_resolves_once_ready(open311):
    open311.token_mode = True
    open311.token_ready = False
    status, _, answer = call(open311.url + "requests.json", case_form())
    assert (status, answer) == (201, [{"token": "tok-1001"}])
    assert call(open311.url + "tokens/tok-1001.json")[2] == [{"token": "tok-1001"}]
    open311.token_ready = True
    assert call(open311.url + "tokens/tok-1001.json")[2] == [
        {"service_request_id": "1001", "token": "tok-1001"}
    ]
    assert call(open311.url + "tokens/tok-9.json")[0] == 404


def test_status_and_retry_after(open311):
    open311.status = 503
    status, headers, errors = call(open311.url + "requests.json", case_form())
    assert status == 503 and errors[0]["code"] == 503
    assert headers["Retry-After"] is None
    open311.status, open311.retry_after = 429, "7"
    status, headers, _ = call(open311.url + "requests.json", case_form())
    assert status == 429 and headers["Retry-After"] == "7"
    assert open311.cases == [] and len(open311.requests) == 2


def test_fail_first(open311):
    open311.fail_first = 2
    statuses = [call(open311.url + "requests.json", case_form())[0] for _ in range(3)]
    assert statuses == [500, 500, 201]
    assert len(open311.cases) == 1


def test_raw_response_is_sent_verbatim(open311):
    open311.raw_response = (502, "text/html", b"<html>Bad Gateway</html>")
    status, headers, body = call(open311.url + "requests.json", case_form())
    assert (status, headers["Content-Type"], body) == (
        502,
        "text/html",
        b"<html>Bad Gateway</html>",
    )


def test_hold_creates_the_case_before_answering(open311):
    open311.hold = threading.Event()
    results = []
    worker = threading.Thread(
        target=lambda: results.append(call(open311.url + "requests.json", case_form()))
    )
    worker.start()
    assert open311.holding.wait(5)
    assert len(open311.cases) == 1 and results == []
    open311.hold.set()
    worker.join(5)
    assert results[0][0] == 201
    assert open311.wait_for_requests(1, timeout=0.1)
    assert not open311.wait_for_requests(2, timeout=0.05)


# Standard Webhooks -------------------------------------------------------------


def deliver(
    receiver, secret, msg_id="msg_1", payload=None, timestamp=None, signature=None
):
    body = json.dumps(payload if payload is not None else {"event": "report.created"})
    body = body.encode()
    timestamp = int(time.time()) if timestamp is None else timestamp
    headers = {
        "Content-Type": "application/json",
        "webhook-id": msg_id,
        "webhook-timestamp": str(timestamp),
        # The parameter shadows the module's function: a given header, else one
        # signed here.
        "webhook-signature": (
            signature or webhooks.signature(secret, msg_id, timestamp, body)
        ),
    }
    return call(receiver.url, headers=headers, body=body)


@pytest.fixture
def webhook():
    secret = make_secret()
    with WebhookReceiver(secret) as receiver:
        yield receiver, secret


def test_valid_signature_is_accepted(webhook):
    receiver, secret = webhook
    status, _, answer = deliver(receiver, secret, payload={"id": 5})
    assert (status, answer) == (200, {"external_id": "WH-1"})
    assert receiver.received[0]["json"] == {"id": 5}
    assert receiver.received[0]["id"] == "msg_1"
    assert isinstance(receiver.received[0]["timestamp"], int)
    assert receiver.received[0]["headers"]["webhook-id"] == "msg_1"
    assert receiver.rejected == []


def test_forged_signature_is_rejected(webhook):
    receiver, _ = webhook
    forged = signature(make_secret(), "msg_1", int(time.time()), b"{}")
    status, _, answer = deliver(receiver, "", signature=forged)
    assert status == 401 and "error" in answer
    assert receiver.rejected == ["invalid signature"] and receiver.received == []


def test_stale_timestamp_is_rejected(webhook):
    receiver, secret = webhook
    assert deliver(receiver, secret, timestamp=int(time.time()) - 301)[0] == 401
    assert receiver.rejected == ["stale timestamp"]


def test_missing_headers_and_non_json_are_rejected(webhook):
    receiver, secret = webhook
    assert call(receiver.url, body=b"{}")[0] == 401
    now = int(time.time())
    headers = {
        "webhook-id": "m",
        "webhook-timestamp": str(now),
        "webhook-signature": signature(secret, "m", now, b"not json"),
    }
    assert call(receiver.url, headers=headers, body=b"not json")[0] == 400
    assert receiver.rejected == ["missing headers", "invalid json"]


def test_rotation_accepts_any_matching_v1_signature(webhook):
    receiver, secret = webhook
    now = int(time.time())
    body = json.dumps({"event": "report.created"}).encode()
    old = signature(make_secret(), "msg_1", now, body)
    both = f"{old} {signature(secret, 'msg_1', now, body)}"
    assert deliver(receiver, secret, timestamp=now, signature=both)[0] == 200


def test_dedupe_on_webhook_id(webhook):
    receiver, secret = webhook
    assert deliver(receiver, secret, "msg_a")[2] == {"external_id": "WH-1"}
    assert deliver(receiver, secret, "msg_a")[2] == {"external_id": "WH-1"}
    assert deliver(receiver, secret, "msg_b")[2] == {"external_id": "WH-2"}
    assert [r["id"] for r in receiver.received] == ["msg_a", "msg_b"]
    assert receiver.deliveries_seen == 3
    assert receiver.wait_for_deliveries(3, timeout=0.1)


def test_status_applies_after_verification(webhook):
    receiver, secret = webhook
    receiver.status, receiver.retry_after = 429, "3"
    status, headers, _ = deliver(receiver, secret)
    assert status == 429 and headers["Retry-After"] == "3"
    assert len(receiver.received) == 1
    forged = signature(make_secret(), "msg_1", int(time.time()), b"{}")
    assert deliver(receiver, secret, signature=forged)[0] == 401
