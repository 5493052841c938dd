"""Knutpunkt's own inbox: the body works the report inside the platform."""

from __future__ import annotations

from .base import CaseRequest, Connector, Sent


class InboxConnector(Connector):
    kind = "inbox"

    def send(self, request: CaseRequest) -> Sent:
        # The report itself is the case; its reference is the report's number.
        return Sent(external_id=f"KP-{request.report_id}")
