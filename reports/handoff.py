"""Where a report's life is handed over to the case hub.

reports sits below the hub: casehub imports reports, never the other way round,
so confirming a report cannot queue its delivery by calling the hub. Instead the
hub says, once at start-up (``casehub.apps``), what to run when a report is
confirmed, and reports runs it inside the transaction that confirms the report:
whatever it writes (the outbox row) commits or rolls back with the confirmation.
"""

from __future__ import annotations

from collections.abc import Callable

from .models import Report

_on_confirmed: list[Callable[[Report], object]] = []


def on_confirmed(receiver: Callable[[Report], object]) -> None:
    """Run ``receiver(report)`` in the transaction that confirms each report."""
    if receiver not in _on_confirmed:
        _on_confirmed.append(receiver)


def report_confirmed(report: Report) -> None:
    for receiver in _on_confirmed:
        receiver(report)
