"""Where a report's life is handed over to the case hub.

reports sits below the hub: casehub imports reports, never the other way round,
so confirming a report cannot queue its delivery by calling the hub. Instead the
hub says, once at start-up (``casehub.apps``), what to run when a report is
confirmed, and reports runs it inside the transaction that confirms the report:
whatever it writes (the outbox row) commits or rolls back with the confirmation.
A citizen's own event (an update, "it is fixed", a reopening by the
questionnaire) is handed over the same way, to be told to the case system.
"""

from __future__ import annotations

from collections.abc import Callable

from .models import Report, ReportEvent

_on_confirmed: list[Callable[[Report], object]] = []
_on_citizen_event: list[Callable[[ReportEvent], object]] = []


def on_confirmed(receiver: Callable[[Report], object]) -> None:
    """Run ``receiver(report)`` in the transaction that confirms each report."""
    if receiver not in _on_confirmed:
        _on_confirmed.append(receiver)


def report_confirmed(report: Report) -> None:
    for receiver in _on_confirmed:
        receiver(report)


def on_citizen_event(receiver: Callable[[ReportEvent], object]) -> None:
    """Run ``receiver(event)`` in the transaction that records each citizen's
    event (an update, "it is fixed", a reopening): the hub queues it for the
    case system holding the report's case."""
    if receiver not in _on_citizen_event:
        _on_citizen_event.append(receiver)


def citizen_event_recorded(event: ReportEvent) -> None:
    for receiver in _on_citizen_event:
        receiver(event)
