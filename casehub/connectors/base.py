"""The small interface every connector implements, and what it is given.

A connector turns one report into a case in one kind of case system, and tells it
of later changes made in Knutpunkt. It is handed a plain ``CaseRequest`` or
``UpdateRequest`` (no models of the reports app), answers ``Sent`` or raises
``DeliveryError`` with a reason a member of staff can read. Whether to retry, back
off or give up is the outbox's business (casehub.outbox), not the connector's.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import ClassVar

from municipalities.models import Connection


@dataclass(frozen=True)
class Contact:
    name: str
    email: str
    phone: str = ""


@dataclass(frozen=True)
class Photo:
    url: str
    filename: str
    read: Callable[[], bytes]


@dataclass(frozen=True)
class CaseRequest:
    """Everything a case system may be told about one report."""

    key: str  # idempotency key of the delivery: the same on every retry
    report_id: int
    report_url: str
    category_id: int
    category_name: str
    title: str
    description: str
    lat: float
    lon: float
    municipality_code: str
    municipality_name: str
    submitted_at: datetime
    answers: dict[str, object] = field(default_factory=dict)
    photos: tuple[Photo, ...] = ()
    contact: Contact | None = None  # only with consent or where the connection needs it
    language: str = "sv"


@dataclass(frozen=True)
class Handover:
    """Where a report was moved to, as an update tells the case system it left."""

    body_name: str
    municipality_code: str
    municipality_name: str
    category_name: str


@dataclass(frozen=True)
class UpdateRequest:
    """A change made in Knutpunkt to a report already a case here: by staff, a
    new status, a public reply, or a handover to another body (after which this
    case system is no longer responsible); by a citizen, an update, "it is
    fixed" or, from the reporter, a reopening."""

    key: str  # idempotency key of the update's delivery: the same on every retry
    report_id: int
    report_url: str
    case_id: str  # the case's id in this case system
    update_id: str  # the change's id in Knutpunkt (its event), for de-duplication
    status: str  # the report's status after the change (Knutpunkt's value)
    description: str  # the public reply, or the handover told in words
    happened_at: datetime
    category_id: int
    category_name: str
    handover: Handover | None = None
    reply_to: str = ""
    status_label: str = ""  # the status as people read it (Swedish)  # an address whose mail comes back to the report
    # The reporter's personal data was erased at their request: the case
    # system is asked to erase the contact details it was given with the case.
    erasure: bool = False
    # Who made the change: "staff" (or Knutpunkt), or a citizen: the
    # "reporter" or a "follower" (never by name).
    author: str = "staff"
    reopened: bool = False  # the reporter said it is not fixed: open again
    # A citizen's update's own photos (checked and stripped, as the report's).
    photos: tuple[Photo, ...] = ()


@dataclass(frozen=True)
class Sent:
    """A case exists: its id in the case system, or a token that will name it."""

    external_id: str = ""
    token: str = ""
    http_status: int | None = None


class DeliveryError(Exception):
    """An attempt failed; ``reason`` is shown to staff as it is.

    ``connection_fault`` says whether the case system (or the connection's set-up)
    is at fault rather than this one report; only such failures count towards the
    connection's circuit breaker. ``retry_after`` (seconds) comes from a 429 or
    503; ``gone`` from a 410, after which the connection is switched off.
    """

    def __init__(
        self,
        reason: str,
        *,
        http_status: int | None = None,
        retry_after: float | None = None,
        gone: bool = False,
        connection_fault: bool = True,
    ):
        super().__init__(reason)
        self.reason = reason
        self.http_status = http_status
        self.retry_after = retry_after
        self.gone = gone
        self.connection_fault = connection_fault


class ConfigurationError(DeliveryError):
    """The connection is set up wrongly (no URL, no or bad secret…)."""


class Connector:
    kind: ClassVar[str]

    def __init__(self, connection: Connection):
        self.connection = connection

    def check(self) -> None:
        """Raise ConfigurationError when the connection cannot work as set up."""

    def send(self, request: CaseRequest) -> Sent:
        raise NotImplementedError

    def send_update(self, request: UpdateRequest) -> Sent:
        """Tell the case system of a change to a case it holds."""
        raise ConfigurationError(
            f"A {self.kind} connection takes no updates.", connection_fault=False
        )

    def resolve_token(self, token: str) -> str:
        """The external id a token stands for, or "" while the system has none."""
        return ""

    def secrets(self) -> list[str]:
        """The connection's secrets from its environment variable, current first."""
        name = self.connection.secret_env
        if not name:
            raise ConfigurationError(
                "The connection names no environment variable for its secret."
            )
        values = os.environ.get(name, "").split()
        if not values:
            raise ConfigurationError(f"The environment variable {name} is not set.")
        return values
