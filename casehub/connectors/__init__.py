"""Connectors to case systems, one module per kind, chosen by the connection's kind."""

from __future__ import annotations

from municipalities.choices import ConnectionKind
from municipalities.models import Connection

from .base import (
    CaseRequest,
    ConfigurationError,
    Connector,
    Contact,
    DeliveryError,
    Handover,
    Photo,
    Sent,
    UpdateRequest,
)
from .email import EmailConnector
from .inbox import InboxConnector
from .open311 import Open311Connector
from .webhook import WebhookConnector

REGISTRY: dict[str, type[Connector]] = {
    ConnectionKind.OPEN311: Open311Connector,
    ConnectionKind.WEBHOOK: WebhookConnector,
    ConnectionKind.EMAIL: EmailConnector,
    ConnectionKind.INBOX: InboxConnector,
}


def connector_for(connection: Connection) -> Connector:
    try:
        return REGISTRY[connection.kind](connection)
    except KeyError:
        raise ConfigurationError(
            f"Unknown connection kind “{connection.kind}”."
        ) from None


__all__ = [
    "REGISTRY",
    "CaseRequest",
    "ConfigurationError",
    "Connector",
    "Contact",
    "DeliveryError",
    "Handover",
    "Photo",
    "Sent",
    "UpdateRequest",
    "connector_for",
]
