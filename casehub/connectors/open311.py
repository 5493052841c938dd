"""Open311 GeoReport v2 client: create service requests, resolve tokens, read a
body's service list with its definitions (for the category sync), read the
status updates of its cases (mySociety's ``servicerequestupdates`` extension, for
``casehub.polling``) and post the changes staff make in Knutpunkt to them (``POST
servicerequestupdates``, the same extension, as FixMyStreet sends it).

Each POST carries the delivery's key as ``Idempotency-Key`` and our report number
as ``attribute[knutpunkt_report_id]``, so a system that honours either never opens
a second case for a retried delivery.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from urllib.parse import quote, urlencode, urljoin

from municipalities.models import ConnectionService

from . import http
from .base import (
    CaseRequest,
    ConfigurationError,
    Connector,
    DeliveryError,
    Sent,
    UpdateRequest,
)

REPORT_ID_ATTRIBUTE = "knutpunkt_report_id"

# The fields of one entry of GET servicerequestupdates.json.
UPDATE_FIELDS = (
    "update_id",
    "service_request_id",
    "status",
    "updated_datetime",
    "description",
    "media_url",
    "external_status_code",
)


# Knutpunkt's statuses as mySociety's extended statuses name them in a POSTed
# update; a handover away from the case system is an internal referral.
UPDATE_STATUS = {
    "open": "OPEN",
    "investigating": "INVESTIGATING",
    "in_progress": "IN_PROGRESS",
    "action_scheduled": "ACTION_SCHEDULED",
    "fixed": "FIXED",
    "closed": "CLOSED",
    "duplicate": "DUPLICATE",
    "not_responsible": "NOT_COUNCILS_RESPONSIBILITY",
    "unable_to_fix": "NO_FURTHER_ACTION",
    "no_further_action": "NO_FURTHER_ACTION",
}
HANDOVER_STATUS = "INTERNAL_REFERRAL"
# Who an update is from: Knutpunkt, on the kommun's behalf (never the member of
# staff or the reporter, whose names are personal data).
UPDATE_FIRST_NAME = "Knutpunkt"


@dataclass(frozen=True)
class ServiceInfo:
    """One entry of a body's service list, with its definition when it has one."""

    code: str
    name: str
    group: str = ""
    definition: dict = field(default_factory=dict)


class Open311Connector(Connector):
    kind = "open311"

    def check(self) -> None:
        if not self.connection.endpoint:
            raise ConfigurationError("The Open311 connection has no endpoint URL.")

    # --- helpers -------------------------------------------------------------

    def _url(self, path: str, **query: str) -> str:
        base = self.connection.endpoint
        if not base.endswith("/"):
            base += "/"
        params = {k: v for k, v in query.items() if v}
        if self.connection.jurisdiction_id:
            params["jurisdiction_id"] = self.connection.jurisdiction_id
        url = urljoin(base, path)
        return f"{url}?{urlencode(params)}" if params else url

    def _api_key(self) -> str:
        return self.secrets()[0] if self.connection.secret_env else ""

    def _get_json(self, path: str, what: str, **query: str):
        response = http.request(
            "GET",
            self._url(path, **query),
            timeout=self.connection.timeout_seconds,
            headers={"Accept": "application/json"},
        )
        http.raise_for_status(response, what)
        return response.json(what)

    # --- delivering ----------------------------------------------------------

    def _service(self, request: CaseRequest) -> ConnectionService:
        # The outbox prefetches the connection's services for a whole batch.
        for service in self.connection.services.all():
            if service.category_id == request.category_id:
                return service
        raise ConfigurationError(
            f"No Open311 service code for the category “{request.category_name}” "
            f"on {self.connection}.",
            connection_fault=False,
        )

    def form(self, request: CaseRequest) -> list[tuple[str, str]]:
        """The POST requests.json form, as GeoReport v2 names its fields."""
        service = self._service(request)
        description = (
            f"{request.title}\n\n{request.description}\n\n{request.report_url}"
        )
        form = [
            ("service_code", service.service_code),
            ("lat", f"{request.lat:.7f}"),
            ("long", f"{request.lon:.7f}"),
            ("description", description.strip()[:4000]),
        ]
        api_key = self._api_key()
        if api_key:
            form.append(("api_key", api_key))
        if self.connection.jurisdiction_id:
            form.append(("jurisdiction_id", self.connection.jurisdiction_id))
        keys = _value_keys(service.definition)
        for code, value in request.answers.items():
            values = value if isinstance(value, list) else [value]
            mapped = [keys.get(code, {}).get(str(v), str(v)) for v in values]
            if isinstance(value, list):
                form.extend((f"attribute[{code}][]", v) for v in mapped)
            else:
                form.append((f"attribute[{code}]", mapped[0]))
        form.append((f"attribute[{REPORT_ID_ATTRIBUTE}]", str(request.report_id)))
        if request.photos:
            form.append(("media_url", request.photos[0].url))
        if request.contact is not None:
            first, _, last = request.contact.name.strip().partition(" ")
            form.extend(
                [
                    ("email", request.contact.email),
                    ("first_name", first),
                    ("last_name", last),
                ]
            )
            if request.contact.phone:
                form.append(("phone", request.contact.phone))
        return form

    def send(self, request: CaseRequest) -> Sent:
        self.check()
        body = urlencode(self.form(request)).encode()
        response = http.request(
            "POST",
            self._url("requests.json"),
            timeout=self.connection.timeout_seconds,
            body=body,
            headers={
                "Content-Type": "application/x-www-form-urlencoded",
                "Accept": "application/json",
                "Idempotency-Key": request.key,
            },
        )
        http.raise_for_status(response, "POST requests.json")
        data = response.json("POST requests.json")
        entry = data[0] if isinstance(data, list) and data else data
        if not isinstance(entry, dict):
            raise DeliveryError(
                "POST requests.json: the answer names no service request",
                http_status=response.status,
            )
        external_id = _text(entry.get("service_request_id"))
        token = _text(entry.get("token"))
        if not external_id and not token:
            raise DeliveryError(
                "POST requests.json: the answer has neither service_request_id "
                "nor token",
                http_status=response.status,
            )
        return Sent(external_id=external_id, token=token, http_status=response.status)

    def update_form(self, request: UpdateRequest) -> list[tuple[str, str]]:
        """The POST servicerequestupdates form, as mySociety's extension names
        its fields."""
        status = (
            HANDOVER_STATUS
            if request.handover is not None
            else UPDATE_STATUS.get(request.status, "OPEN")
        )
        form = [
            ("service_request_id", request.case_id),
            ("update_id", request.update_id),
            ("status", status),
            ("updated_datetime", _w3c(request.happened_at)),
            # The extension requires a text: a bare change of status says it.
            (
                "description",
                (request.description.strip() or f"Status: {request.status_label}")[
                    :4000
                ],
            ),
            ("email", request.reply_to),
            ("first_name", UPDATE_FIRST_NAME),
            ("last_name", "-"),  # as FixMyStreet sends when there is none
        ]
        if request.photos:
            # The extension's one photo of an update, as FixMyStreet sends it.
            form.append(("media_url", request.photos[0].url))
        api_key = self._api_key()
        if api_key:
            form.append(("api_key", api_key))
        if self.connection.jurisdiction_id:
            form.append(("jurisdiction_id", self.connection.jurisdiction_id))
        return form

    def send_update(self, request: UpdateRequest) -> Sent:
        self.check()
        what = "POST servicerequestupdates.json"
        response = http.request(
            "POST",
            self._url("servicerequestupdates.json"),
            timeout=self.connection.timeout_seconds,
            body=urlencode(self.update_form(request)).encode(),
            headers={
                "Content-Type": "application/x-www-form-urlencoded",
                "Accept": "application/json",
                "Idempotency-Key": request.key,
            },
        )
        http.raise_for_status(response, what)
        update_id = ""
        if response.body.strip():
            data = response.json(what)
            if isinstance(data, dict):
                data = data.get("service_request_updates", data)
            entry = data[0] if isinstance(data, list) and data else data
            if isinstance(entry, dict) and isinstance(
                entry.get("request_update"), dict
            ):
                entry = entry["request_update"]
            if isinstance(entry, dict):
                update_id = _text(entry.get("update_id"))
        # 2xx is the update taken; its id in the case system is for staff only.
        return Sent(external_id=update_id[:200], http_status=response.status)

    def resolve_token(self, token: str) -> str:
        data = self._get_json(
            f"tokens/{quote(token, safe='')}.json",
            "GET tokens",
            api_key=self._api_key(),
        )
        entry = data[0] if isinstance(data, list) and data else data
        return _text(entry.get("service_request_id")) if isinstance(entry, dict) else ""

    # --- status updates --------------------------------------------------------

    def updates(self, start: datetime, end: datetime) -> list[dict]:
        """The updates stamped from ``start`` to ``end``, as the system lists them.

        Each entry has every field of ``UPDATE_FIELDS`` as a stripped string (""
        when absent); whether an entry is usable (an update_id, a valid time, a
        known status) is the caller's business, so that one bad entry does not
        hold up the others. An answer that is not a list of such objects, or one
        whose entries all lack an update_id (not an updates feed), is a
        DeliveryError.
        """
        self.check()
        what = "GET servicerequestupdates.json"
        data = self._get_json(
            "servicerequestupdates.json",
            what,
            start_date=_w3c(start),
            end_date=_w3c(end),
            api_key=self._api_key(),
        )
        if isinstance(data, dict) and isinstance(
            data.get("service_request_updates"), list
        ):
            data = data["service_request_updates"]  # some systems wrap the list
        if not isinstance(data, list):
            raise DeliveryError(
                f"{what}: expected a list of updates, got a JSON {type(data).__name__}"
            )
        updates = []
        for number, entry in enumerate(data, 1):
            if not isinstance(entry, dict):
                raise DeliveryError(f"{what}: update {number} is not an object")
            for name in UPDATE_FIELDS:
                if isinstance(entry.get(name), (dict, list)):
                    raise DeliveryError(
                        f"{what}: {name} of update {number} is not a single value"
                    )
            updates.append({name: _text(entry.get(name)) for name in UPDATE_FIELDS})
        if updates and not any(update["update_id"] for update in updates):
            raise DeliveryError(
                f"{what}: none of the {len(updates)} entries has an update_id"
            )
        return updates

    # --- the service list ----------------------------------------------------

    def services(self) -> list[ServiceInfo]:
        """The body's services, with the definitions of those that have metadata."""
        self.check()
        listed = self._get_json("services.json", "GET services.json")
        if not isinstance(listed, list):
            raise DeliveryError("GET services.json: expected a list of services")
        services = []
        for entry in listed:
            if not isinstance(entry, dict) or not _text(entry.get("service_code")):
                raise DeliveryError("GET services.json: an entry has no service_code")
            code = _text(entry["service_code"])
            definition = {}
            if entry.get("metadata") in (True, "true"):
                definition = self._get_json(
                    f"services/{quote(code, safe='')}.json",
                    f"GET services/{code}.json",
                )
                if not isinstance(definition, dict):
                    raise DeliveryError(
                        f"GET services/{code}.json: expected a service definition"
                    )
            services.append(
                ServiceInfo(
                    code=code,
                    name=_text(entry.get("service_name")) or code,
                    group=_text(entry.get("group")),
                    definition=definition,
                )
            )
        return services


def _text(value) -> str:
    return "" if value is None else str(value).strip()


def _w3c(moment: datetime) -> str:
    """A W3C date and time in UTC, to the second: 2025-05-01T08:30:00Z."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _value_keys(definition: dict) -> dict[str, dict[str, str]]:
    """For list attributes: the key of each value's shown name, by attribute code."""
    keys: dict[str, dict[str, str]] = {}
    for attribute in definition.get("attributes") or []:
        if not isinstance(attribute, dict):
            continue
        values = attribute.get("values") or []
        keys[str(attribute.get("code"))] = {
            str(v.get("name")): str(v.get("key")) for v in values if isinstance(v, dict)
        }
    return keys
