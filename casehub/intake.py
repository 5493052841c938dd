"""Status signals coming in from case systems over HTTP.

Two ways in, both ending in ``casehub.services.signal_accept``:

- ``POST /api/v1/connections/<id>/signals``: a JSON signal signed as Standard
  Webhooks with the connection's secret(s);
- ``POST /open311/v2/servicerequestupdates.{json,xml}``: mySociety's Open311
  extension, authenticated by the connection's api_key.

(The third, polling a body's Open311 ``servicerequestupdates``, runs in the
delivery dispatcher: ``casehub.polling``.)

Whatever the body, the answer is a precise status with a JSON (or Open311 XML)
error, logged with its reason, never with the signal's content; nothing changes
on a refusal. Bodies are capped at ``KNUTPUNKT_SIGNAL_MAX_BYTES`` before they are
read (``infra.asgi``); the views check again for servers without that middleware.
"""

from __future__ import annotations

import hmac
import json
import logging
import os
from xml.sax.saxutils import escape

from django.conf import settings
from django.core.exceptions import RequestDataTooBig, SuspiciousOperation
from django.http import HttpResponse, JsonResponse
from django.http.multipartparser import MultiPartParserError
from django.views.decorators.csrf import csrf_exempt

from infra.ratelimit import rate_limited
from municipalities.choices import ConnectionKind
from municipalities.models import Connection
from reports.choices import status_from_external

from .services import (
    MAX_MESSAGE_ID,
    Handover,
    Signal,
    SignalRejected,
    moment_from,
    signal_accept,
)
from .signing import SecretInvalid, SignatureInvalid, verify

logger = logging.getLogger("knutpunkt.intake")

# "open311:" and the update_id make the message id.
OPEN311_PREFIX = "open311:"


def _refuse(status: int, reason: str, connection_id=None, **headers) -> JsonResponse:
    logger.warning("Signal refused (connection %s): %s", connection_id, reason)
    response = JsonResponse({"error": reason}, status=status)
    for name, value in headers.items():
        response[name.replace("_", "-")] = value
    return response


def _declared_length(request) -> int | None:
    try:
        return int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return None


def _text(data: dict, key: str, limit: int) -> str:
    value = data.get(key, "")
    if value is None:
        return ""
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise SignalRejected(400, f"{key} must be a string.")
    return str(value)[:limit]


# The one kind of signal a case system sends us (README: "Status signals").
SIGNAL_TYPE = "report.status"


def signal_from_json(connection_id: int, message_id: str, payload) -> Signal:
    """Our webhook signal format (see README): {"type": "report.status", "data": …}."""
    if not isinstance(payload, dict) or not isinstance(payload.get("data"), dict):
        raise SignalRejected(400, "Expected a JSON object with a “data” object.")
    if payload.get("type") != SIGNAL_TYPE:
        raise SignalRejected(400, f"type must be “{SIGNAL_TYPE}”.")
    data = payload["data"]
    report_id = data.get("report_id")
    if report_id is not None and (
        isinstance(report_id, bool) or not isinstance(report_id, int)
    ):
        raise SignalRejected(400, "report_id must be an integer.")
    status = None
    if data.get("status") not in (None, ""):
        if not isinstance(data["status"], str):
            raise SignalRejected(400, "status must be a string.")
        status = status_from_external(data["status"])
        if status is None:
            raise SignalRejected(400, f"Unknown status “{data['status'][:50]}”.")
    handover = None
    if data.get("handover") is not None:
        given = data["handover"]
        if not isinstance(given, dict) or not given.get("body"):
            raise SignalRejected(400, "handover needs a “body”.")
        handover = Handover(
            body_slug=_text(given, "body", 100),
            municipality_code=_text(given, "municipality", 4),
        )
    happened_at = None
    if data.get("happened_at") not in (None, ""):
        happened_at = moment_from(data["happened_at"], "happened_at")
    return Signal(
        connection_id=connection_id,
        message_id=message_id,
        report_id=report_id,
        external_id=_text(data, "external_id", 200),
        status=status,
        note=_text(data, "note", 4000),
        happened_at=happened_at,
        external_status_code=_text(data, "external_status_code", 100),
        handler=_text(data, "handler", 200),
        handover=handover,
    )


@csrf_exempt
@rate_limited("signals")
def webhook_signal(request, connection_id: int):
    if request.method != "POST":
        return _refuse(405, "Signals are POSTed.", connection_id, Allow="POST")
    connection = Connection.objects.filter(
        pk=connection_id, kind=ConnectionKind.WEBHOOK
    ).first()
    if connection is None:
        return _refuse(404, "No webhook connection with this id.", connection_id)
    cap = settings.KNUTPUNKT_SIGNAL_MAX_BYTES
    declared = _declared_length(request)
    if declared is None:
        return _refuse(400, "Content-Length is not a number.", connection_id)
    if declared > cap:
        return _refuse(413, f"A signal is at most {cap // 1024} KB.", connection_id)
    body = request.body
    if len(body) > cap:
        return _refuse(413, f"A signal is at most {cap // 1024} KB.", connection_id)
    try:
        secrets = [s for s in os.environ.get(connection.secret_env, "").split() if s]
        if not connection.secret_env or not secrets:
            return _refuse(
                503, "The connection has no secret set up yet.", connection_id
            )
        message_id = verify(secrets, request.headers, body)
    except SignatureInvalid as exc:
        return _refuse(401, str(exc), connection_id)
    except SecretInvalid:
        return _refuse(503, "The connection's secret is unusable.", connection_id)
    try:
        payload = json.loads(body)
    except (ValueError, RecursionError):
        return _refuse(400, "The body is not JSON.", connection_id)
    try:
        outcome = signal_accept(
            signal=signal_from_json(connection.pk, message_id, payload)
        )
    except SignalRejected as exc:
        return _refuse(exc.status, exc.reason, connection_id)
    return JsonResponse(
        {
            "report_id": outcome.report_id,
            "event_id": outcome.event_id,
            "duplicate": outcome.duplicate,
            "superseded": outcome.superseded,
        },
        status=200 if outcome.duplicate else 202,
    )


# --- Open311 servicerequestupdates ---------------------------------------------------


def _open311_answer(fmt: str, status: int, entries: list[dict], root: str, item: str):
    if fmt == "xml":
        rows = "".join(
            f"<{item}>"
            + "".join(f"<{k}>{escape(str(v))}</{k}>" for k, v in entry.items())
            + f"</{item}>"
            for entry in entries
        )
        return HttpResponse(
            f'<?xml version="1.0" encoding="utf-8"?><{root}>{rows}</{root}>',
            status=status,
            content_type="text/xml; charset=utf-8",
        )
    return JsonResponse(entries, status=status, safe=False)


def _open311_error(fmt: str, status: int, reason: str, connection_id=None, **headers):
    logger.warning("Open311 update refused (connection %s): %s", connection_id, reason)
    response = _open311_answer(
        fmt, status, [{"code": status, "description": reason}], "errors", "error"
    )
    for name, value in headers.items():
        response[name.replace("_", "-")] = value
    return response


def _connection_for_api_key(api_key: str) -> Connection | None:
    """The Open311 connection whose api_key this is (compared in constant time)."""
    found = None
    for connection in Connection.objects.filter(kind=ConnectionKind.OPEN311).exclude(
        secret_env=""
    ):
        for secret in os.environ.get(connection.secret_env, "").split():
            if hmac.compare_digest(secret.encode(), api_key.encode()) and found is None:
                found = connection
    return found


def _open311_form(request, fmt: str):
    """The POSTed form, or the error answer when it cannot be read."""
    cap = settings.KNUTPUNKT_SIGNAL_MAX_BYTES
    declared = _declared_length(request)
    if declared is None:
        return None, _open311_error(fmt, 400, "Content-Length is not a number.")
    if declared > cap:
        return None, _open311_error(fmt, 413, f"An update is at most {cap // 1024} KB.")
    try:
        body = request.body  # read once: the form is parsed from it
    except RequestDataTooBig:
        body = None
    if body is None or len(body) > cap:
        return None, _open311_error(fmt, 413, f"An update is at most {cap // 1024} KB.")
    try:
        return request.POST, None
    except (MultiPartParserError, SuspiciousOperation, UnicodeDecodeError):
        return None, _open311_error(fmt, 400, "The body is not a readable form.")


@csrf_exempt
@rate_limited("signals")
def open311_update(request, fmt: str):
    if fmt not in ("json", "xml"):
        return _open311_error("json", 404, "Use servicerequestupdates.json or .xml.")
    if request.method != "POST":
        return _open311_error(fmt, 405, "Updates are POSTed.", Allow="POST")
    form, error = _open311_form(request, fmt)
    if error is not None:
        return error
    api_key = form.get("api_key", "")
    connection = _connection_for_api_key(api_key) if api_key else None
    if connection is None:
        return _open311_error(fmt, 401, "Missing or unknown api_key.")
    missing = [
        f
        for f in ("update_id", "service_request_id", "status", "updated_datetime")
        if not form.get(f, "").strip()
    ]
    if missing:
        return _open311_error(
            fmt, 400, f"Missing: {', '.join(missing)}.", connection.pk
        )
    update_id = form["update_id"]
    if len(OPEN311_PREFIX + update_id) > MAX_MESSAGE_ID:
        return _open311_error(
            fmt,
            400,
            f"update_id has more than {MAX_MESSAGE_ID - len(OPEN311_PREFIX)} "
            "characters.",
            connection.pk,
        )
    status = status_from_external(form["status"])
    if status is None:
        return _open311_error(
            fmt, 400, f"Unknown status “{form['status'][:50]}”.", connection.pk
        )
    try:
        signal = Signal(
            connection_id=connection.pk,
            message_id=OPEN311_PREFIX + update_id,
            external_id=form["service_request_id"][:200],
            status=status,
            note=form.get("description", "")[:4000],
            happened_at=moment_from(form["updated_datetime"], "updated_datetime"),
            external_status_code=form.get("external_status_code", "")[:100],
        )
        signal_accept(signal=signal)
    except SignalRejected as exc:
        return _open311_error(fmt, exc.status, exc.reason, connection.pk)
    return _open311_answer(
        fmt,
        200,
        [{"update_id": update_id}],
        "service_request_updates",
        "request_update",
    )
