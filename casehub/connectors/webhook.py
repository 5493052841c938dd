"""Signed JSON webhook, as Standard Webhooks: the delivery's key is the
``webhook-id`` (the same on every retry, for the receiver to de-duplicate on),
any 2xx is success, and an ``external_id`` in a JSON answer becomes the reference.

Two event types: ``report.created`` (a new case) and ``report.updated`` (a change
made in Knutpunkt to a case the receiver holds: ``change`` is "status",
"reply" or "handover" from staff; a handover names where the report went, after
which the receiver is no longer responsible for it; "update" from a citizen
(``author`` "reporter" or "follower": their text in ``reply``, or the reporter
saying it is fixed in ``status``) or "reopened" when the reporter said it is
not fixed after all).
"""

from __future__ import annotations

import json
import time

from ..signing import SecretInvalid, sign_headers
from . import http
from .base import CaseRequest, ConfigurationError, Connector, Sent, UpdateRequest

EVENT_TYPE = "report.created"
UPDATE_EVENT_TYPE = "report.updated"


def payload(request: CaseRequest) -> dict:
    return {
        "type": EVENT_TYPE,
        "timestamp": request.submitted_at.isoformat(),
        "data": {
            "id": request.report_id,
            "url": request.report_url,
            "category": {"id": request.category_id, "name": request.category_name},
            "title": request.title,
            "description": request.description,
            "lat": request.lat,
            "lon": request.lon,
            "municipality": {
                "code": request.municipality_code,
                "name": request.municipality_name,
            },
            "answers": request.answers,
            "photos": [photo.url for photo in request.photos],
            "submitted_at": request.submitted_at.isoformat(),
            "language": request.language,
            "contact": (
                None
                if request.contact is None
                else {
                    "name": request.contact.name,
                    "email": request.contact.email,
                    "phone": request.contact.phone,
                }
            ),
        },
    }


def update_payload(request: UpdateRequest) -> dict:
    handover = request.handover
    if request.erasure:
        change = "erasure"
    elif handover is not None:
        change = "handover"
    elif request.reopened:
        change = "reopened"
    elif request.author != "staff":
        change = "update"
    elif request.description.strip():
        change = "reply"
    else:
        change = "status"
    return {
        "type": UPDATE_EVENT_TYPE,
        "timestamp": request.happened_at.isoformat(),
        "data": {
            "id": request.report_id,
            "url": request.report_url,
            "external_id": request.case_id,
            "update_id": request.update_id,
            "change": change,
            # "staff", or a citizen: "reporter" or "follower" (never by name).
            "author": request.author,
            "status": request.status,
            "reply": request.description if handover is None else "",
            "category": {"id": request.category_id, "name": request.category_name},
            "handover": (
                None
                if handover is None
                else {
                    "body": handover.body_name,
                    "municipality": {
                        "code": handover.municipality_code,
                        "name": handover.municipality_name,
                    },
                    "category": handover.category_name,
                    "note": request.description,
                }
            ),
            "happened_at": request.happened_at.isoformat(),
            # A citizen's update's photos (none for staff's changes).
            "photos": [photo.url for photo in request.photos],
        },
    }


class WebhookConnector(Connector):
    kind = "webhook"

    def check(self) -> None:
        if not self.connection.endpoint:
            raise ConfigurationError("The webhook connection has no URL.")
        self._headers(b"", "check")

    def _headers(self, body: bytes, msg_id: str) -> dict[str, str]:
        try:
            return sign_headers(self.secrets(), msg_id, int(time.time()), body)
        except SecretInvalid as exc:
            raise ConfigurationError(
                f"The secret in {self.connection.secret_env} is unusable: {exc}"
            ) from None

    def send(self, request: CaseRequest) -> Sent:
        return self._post(payload(request), request.key)

    def send_update(self, request: UpdateRequest) -> Sent:
        return self._post(update_payload(request), request.key)

    def _post(self, data: dict, key: str) -> Sent:
        self.check()
        body = json.dumps(data, ensure_ascii=False).encode()
        msg_id = f"msg_{key}"
        response = http.request(
            "POST",
            self.connection.endpoint,
            timeout=self.connection.timeout_seconds,
            body=body,
            headers={
                "Content-Type": "application/json",
                **self._headers(body, msg_id),
            },
        )
        http.raise_for_status(response, "POST webhook")
        external_id = ""
        if response.body.strip():
            try:
                data = json.loads(response.body)
            except ValueError:
                data = None  # 2xx is success; the answer's body is optional
            if isinstance(data, dict) and data.get("external_id") is not None:
                external_id = str(data["external_id"])[:200]
        return Sent(external_id=external_id, http_status=response.status)
