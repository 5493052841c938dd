"""A kommun's service promises and working-day calendar, as the rest of the
platform reads them: ``promise_for`` (the category's own promise, else the
kommun's default, else none) and ``calendar_for``."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Q

from .models import ServicePromise, WorkCalendar
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
