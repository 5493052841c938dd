"""Service promises as the citizen pages say them (municipalities.promises):
the promise for a category at the chosen kommun, the one a report was received
under, and the day it falls due."""

from django import template

from infra.moments import moment_format
from municipalities.promises import Promise, due_day, promise_sentence

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
def due_date(due) -> str:
    """The day a promise falls due, as a date in the language's own form."""
    return moment_format(due_day(due), with_time=False) if due else ""


@register.filter
def due_date_iso(due) -> str:
    """The same day for machines (``<time datetime>``)."""
    return due_day(due).isoformat() if due else ""
