"""A kommun's service promises and working-day calendar, as the rest of the
platform reads them: ``promise_for`` (the category's own promise, else the
kommun's default, else none), ``calendar_for``, and ``promise_sentence``, the
one way a promise is said to people.

A changed calendar changes when the kommun's open reports fall due. Reports
sits above this app, so it says at start-up (``reports.apps``) what to run when
a kommun's calendar changes (``on_calendar_changed``), and the calendar's
screen calls ``calendar_changed`` in the transaction that saves it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.db.models import Q
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from .models import Category, ServicePromise, WorkCalendar
from .routing import routes_at
from .workdays import WorkingDays, working_days


@dataclass(frozen=True)
class Promise:
    """What was promised for a report: working days to a first response and to
    a fix."""

    response_days: int
    fix_days: int


def promise_for(*, municipality_id: int, category_id: int | None) -> Promise | None:
    """The promise a kommun makes for a category: its own, else the kommun's
    default, else none."""
    rows = ServicePromise.objects.filter(
        Q(category_id=category_id) | Q(category__isnull=True),
        municipality_id=municipality_id,
    ).values_list("category_id", "response_days", "fix_days")
    chosen = None
    for row_category, response_days, fix_days in rows:
        if row_category is not None or chosen is None:
            chosen = Promise(response_days=response_days, fix_days=fix_days)
    return chosen


def promises_of(municipality_id: int) -> dict[int | None, Promise]:
    """Every promise of a kommun by category id (``None``: the default)."""
    return {
        category_id: Promise(response_days=r, fix_days=f)
        for category_id, r, f in ServicePromise.objects.filter(
            municipality_id=municipality_id
        ).values_list("category_id", "response_days", "fix_days")
    }


def offered_promises(municipality) -> tuple[Promise | None, list]:
    """What a kommun promises citizens: its default promise, and the
    categories it takes reports in that have their own, with each promise."""
    promises = promises_of(municipality.pk)
    offered = (
        Category.objects.filter(
            pk__in=[pk for pk in promises if pk is not None],
            routes__in=routes_at(municipality),
        )
        .distinct()
        .order_by("sort_order", "name")
    )
    return promises.get(None), [(c, promises[c.pk]) for c in offered]


def default_promises() -> dict[int, Promise]:
    """The default promise of every kommun that has one, by kommun id."""
    return {
        municipality_id: Promise(response_days=r, fix_days=f)
        for municipality_id, r, f in ServicePromise.objects.filter(
            category__isnull=True
        ).values_list("municipality_id", "response_days", "fix_days")
    }


def calendar_for(municipality_id: int) -> WorkingDays:
    """The kommun's working days (the national default without a calendar)."""
    row = (
        WorkCalendar.objects.filter(municipality_id=municipality_id)
        .values(
            "midsummer_eve_off",
            "christmas_eve_off",
            "new_years_eve_off",
            "extra_days_off",
        )
        .first()
    )
    return working_days(**row) if row else WorkingDays()


def due_day(*, municipality_id: int, due):
    """The last working day of a promise falling due at ``due`` (a report's
    ``response_due_at`` or ``fix_due_at``), as people are told it: "by 30
    December"."""
    return calendar_for(municipality_id).last_day(due)


def promise_sentence(promise: Promise) -> str:
    """The promise as said to people: "Vi svarar inom 2 arbetsdagar och
    åtgärdar inom 10 arbetsdagar." """
    response = ngettext(
        "%(count)s working day", "%(count)s working days", promise.response_days
    ) % {"count": promise.response_days}
    fix = ngettext(
        "%(count)s working day", "%(count)s working days", promise.fix_days
    ) % {"count": promise.fix_days}
    return _("We respond within %(response)s and fix it within %(fix)s.") % {
        "response": response,
        "fix": fix,
    }


# --- a kommun's calendar changed ---------------------------------------------------

_on_calendar_changed: list[Callable[[int], object]] = []


def on_calendar_changed(receiver: Callable[[int], object]) -> None:
    """Run ``receiver(municipality_id)`` in the transaction that changes a
    kommun's working-day calendar."""
    if receiver not in _on_calendar_changed:
        _on_calendar_changed.append(receiver)


def calendar_changed(*, municipality_id: int) -> None:
    for receiver in _on_calendar_changed:
        receiver(municipality_id)
