"""Service promises as the citizen pages say them (municipalities.promises):
the promise for a category at the chosen kommun, the one a report was received
under, and the day it falls due."""

from django import template

from municipalities.promises import Promise, due_day, promise_sentence
from municipalities.workdays import CalendarUnavailable

register = template.Library()


@register.filter
def promise_in(category, promises) -> str:
    """The promise for ``category`` among a kommun's (``promises_of``: its own,
    else the kommun's default), said in a sentence; empty without one."""
    if not isinstance(promises, dict):
        return ""
    promise = promises.get(category.pk, promises.get(None))
    return promise_sentence(promise) if promise else ""


@register.filter
def promise_said(promise) -> str:
    """A ``Promise`` in a sentence."""
    return promise_sentence(promise) if isinstance(promise, Promise) else ""


@register.filter
def report_promise(report) -> str:
    """The promise the report was received under, in a sentence; empty
    without one."""
    if report.promise_response_days is None or report.promise_fix_days is None:
        return ""
    return promise_sentence(
        Promise(
            response_days=report.promise_response_days,
            fix_days=report.promise_fix_days,
        )
    )


@register.filter
def due_day_of(report, which: str):
    """The last working day of the report's promise of a first ``response``
    or a ``fix`` ("by 30 December"); None without one, or when the kommun's
    working days cannot be counted now."""
    due = getattr(report, f"{which}_due_at", None)
    if due is None:
        return None
    try:
        return due_day(municipality_id=report.municipality_id, due=due)
    except CalendarUnavailable:
        return None
