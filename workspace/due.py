"""When an open report's service promise falls due, as the inbox and the daily
digest show and filter it.

``Report.due_at`` is kept by reports.milestones: the moment the promise still
to keep (a first response until one was given, then the fix) is broken, when
the working day after its last working day begins; none for a closed report
or one without a promise. People are shown the last day ("by 7 December",
``due_last_day``). Here it is only read:

- **overdue** (“Försenade”): ``due_at`` before now;
- **due soon** (“Förfaller snart”): ``due_at`` from now until the end of the
  next working day in the report's own kommun's calendar, which, as promises
  count, is when a promise of one working day made now would break
  (``WorkingDays.due(now, 1)``): the promises whose last day is today or the
  next working day. On a Friday that is Friday's and Monday's (or Tuesday's
  when Monday is a holiday); on Christmas Eve, with the kommun's default
  calendar, those whose last day is 28 December or earlier. Across several
  kommuner each keeps its own: the kommuner without a calendar of their own
  share the national default's boundary, and those with one are grouped by
  the boundary theirs gives, so the filter is a few ranges on the
  ``report_due`` index (kommun, due_at) however many kommuner the user sees.

Both filters and the sort use the ``report_due`` index.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections import defaultdict

from django.db.models import Q
from django.utils import timezone

from municipalities.models import WorkCalendar
from municipalities.workdays import (
    CalendarUnavailable,
    WorkingDays,
    local_date,
    stockholm,
    working_days,
)

logger = logging.getLogger(__name__)

OVERDUE, DUE_SOON = "overdue", "soon"


def own_calendars() -> dict[int, WorkingDays]:
    """The kommuner with a calendar of their own, with it, in one read (as
    municipalities.promises.calendar_for reads one); every other kommun
    counts the national default (``WorkingDays()``)."""
    rows = WorkCalendar.objects.values(
        "municipality_id",
        "midsummer_eve_off",
        "christmas_eve_off",
        "new_years_eve_off",
        "extra_days_off",
    )
    return {row.pop("municipality_id"): working_days(**row) for row in rows}


def overdue_q(now: dt.datetime | None = None) -> Q:
    """Reports whose promise fell due before ``now``."""
    return Q(due_at__lt=now or timezone.now())


def soon_ends(calendar: WorkingDays, now: dt.datetime) -> dt.datetime:
    """The end of the next working day after ``now``'s Stockholm date: when a
    promise of one working day made now would break."""
    try:
        return calendar.due(now, 1)
    except CalendarUnavailable as error:
        # Without the year's holidays: the end of tomorrow, the shortest
        # answer the rule could give.
        logger.warning("No working days to bound “due soon”: %s", error)
        return dt.datetime.combine(
            local_date(now) + dt.timedelta(days=2), dt.time(), stockholm()
        )


def due_soon_q(now: dt.datetime | None = None) -> Q:
    """Reports whose promise falls due from ``now`` until the end of the next
    working day of their kommun."""
    now = now or timezone.now()
    default_end = soon_ends(WorkingDays(), now)
    own = own_calendars()
    own_calendar, by_end = list(own), defaultdict(list)
    for kommun_id, calendar in own.items():
        by_end[soon_ends(calendar, now)].append(kommun_id)
    ranges = Q(due_at__lte=default_end) & ~Q(municipality_id__in=own_calendar)
    for end, kommun_ids in by_end.items():
        ranges |= Q(municipality_id__in=kommun_ids, due_at__lte=end)
    return Q(due_at__gte=now) & ranges


def due_q(which: str, now: dt.datetime | None = None) -> Q:
    """The inbox's filter by name: ``overdue`` or ``soon``."""
    return overdue_q(now) if which == OVERDUE else due_soon_q(now)


def due_last_day(calendar: WorkingDays, due_at: dt.datetime) -> dt.date:
    """The promise's last working day, as people are told it
    (``WorkingDays.last_day``); the day before ``due_at`` without the year's
    holidays."""
    try:
        return calendar.last_day(due_at)
    except CalendarUnavailable:
        return local_date(due_at) - dt.timedelta(days=1)


class Calendars:
    """The kommuner's calendars, read once (``own_calendars``) when first
    asked: for a listing that shows many kommuner's reports' last days."""

    def __init__(self):
        self._own: dict[int, WorkingDays] | None = None
        self._default = WorkingDays()

    def of(self, municipality_id: int) -> WorkingDays:
        if self._own is None:
            self._own = own_calendars()
        return self._own.get(municipality_id, self._default)


def is_overdue(due_at: dt.datetime | None, now: dt.datetime | None = None) -> bool:
    return due_at is not None and due_at < (now or timezone.now())
