"""Working days in Sweden, as a kommun counts them for its service promises.

A working day is Monday to Friday, except Sweden's public holidays (from the
maintained ``holidays`` library), the de facto days off a kommun keeps
(midsommarafton, julafton, nyårsafton: all three unless its calendar says
otherwise) and the kommun's own extra days off.

Days are Stockholm dates. The rules of counting, used by every promise and
every statistic (reports.milestones):

- a promise of N working days made on day D is kept by the end of the N-th
  working day after D (D itself never counts, whether or not it is a working
  day), and broken only when the next working day begins: a report received on
  Wednesday 23 December 2026 with a promise of 3 working days is due by
  Wednesday 30 December (shown so), and an answer on nyårsafton, a day off,
  still took 3 working days: the promise breaks on Monday 4 January 2027 at
  00:00;
- the working days something took, from day D to day E, are the working days
  after D up to and including E: the same day is 0, the next working day 1.
  So a promise of N is kept exactly when it took at most N.

This module reads no database; ``municipalities.promises`` loads a kommun's
calendar.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from dataclasses import dataclass, field
from functools import lru_cache

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

# The library's names (language "sv") of the de facto days off.
DE_FACTO_NAMES = {
    "midsummer_eve": "Midsommarafton",
    "christmas_eve": "Julafton",
    "new_years_eve": "Nyårsafton",
}
# Years the library is asked for; a date outside them cannot be counted.
FIRST_YEAR = 2000
LAST_YEAR = 2100


class CalendarUnavailable(RuntimeError):
    """The holiday calendar could not be loaded for a year: nothing that
    depends on working days can be computed for it."""


def stockholm() -> zoneinfo.ZoneInfo:
    return zoneinfo.ZoneInfo(settings.TIME_ZONE)


def local_date(moment: dt.datetime) -> dt.date:
    """The Stockholm date of an aware moment."""
    return moment.astimezone(stockholm()).date()


@lru_cache(maxsize=256)
def _national_days_off(year: int) -> tuple[frozenset[dt.date], dict[str, dt.date]]:
    """Sweden's public holidays of a year, and its de facto days off by key."""
    if not FIRST_YEAR <= year <= LAST_YEAR:
        raise CalendarUnavailable(
            _("Working days can only be counted from %(first)s to %(last)s.")
            % {"first": FIRST_YEAR, "last": LAST_YEAR}
        )
    try:
        import holidays  # noqa: PLC0415 (a large module, loaded when first needed)

        public = holidays.country_holidays("SE", years=year, language="sv")
        de_facto = holidays.country_holidays(
            "SE", years=year, categories=("de_facto",), language="sv"
        )
    except Exception as error:  # the library failing to load is one answer
        raise CalendarUnavailable(
            _("The Swedish holiday calendar could not be loaded: %(error)s")
            % {"error": error}
        ) from error
    by_name = {name: day for day, name in de_facto.items()}
    missing = [n for n in DE_FACTO_NAMES.values() if n not in by_name]
    if missing:
        raise CalendarUnavailable(
            _("The Swedish holiday calendar lacks %(days)s for %(year)s.")
            % {"days": ", ".join(missing), "year": year}
        )
    return (
        frozenset(public.keys()),
        {key: by_name[name] for key, name in DE_FACTO_NAMES.items()},
    )


def extra_days_parse(text: str) -> dict[dt.date, str]:
    """A kommun's extra days off, one per line: "YYYY-MM-DD [name]"."""
    days: dict[dt.date, str] = {}
    errors = []
    for number, line in enumerate((text or "").splitlines(), start=1):
        line = line.strip()
        if not line:
            continue
        head, _sep, name = line.partition(" ")
        try:
            day = dt.date.fromisoformat(head)
        except ValueError:
            errors.append(
                _("Line %(number)s: “%(text)s” is not a date as YYYY-MM-DD.")
                % {"number": number, "text": head[:40]}
            )
            continue
        if not FIRST_YEAR <= day.year <= LAST_YEAR:
            errors.append(
                _("Line %(number)s: choose a year from %(first)s to %(last)s.")
                % {"number": number, "first": FIRST_YEAR, "last": LAST_YEAR}
            )
            continue
        days[day] = name.strip()
    if errors:
        raise ValidationError(errors)
    return days


@dataclass(frozen=True)
class WorkingDays:
    """One kommun's working days. ``de_facto_off``: the keys of
    ``DE_FACTO_NAMES`` the kommun keeps as days off."""

    de_facto_off: frozenset[str] = frozenset(DE_FACTO_NAMES)
    extra_off: frozenset[dt.date] = frozenset()
    _years: dict = field(default_factory=dict, compare=False, hash=False, repr=False)

    def days_off(self, year: int) -> frozenset[dt.date]:
        """Every day off of the year but weekends. Raises CalendarUnavailable."""
        cached = self._years.get(year)
        if cached is None:
            public, de_facto = _national_days_off(year)
            chosen = {de_facto[key] for key in self.de_facto_off if key in de_facto}
            extra = {d for d in self.extra_off if d.year == year}
            cached = frozenset(public | chosen | extra)
            self._years[year] = cached
        return cached

    def is_working_day(self, day: dt.date) -> bool:
        return day.weekday() < 5 and day not in self.days_off(day.year)

    def add(self, day: dt.date, count: int) -> dt.date:
        """The ``count``-th working day after ``day`` (``count`` ≥ 1)."""
        if count < 1:
            raise ValueError("A promise is at least one working day.")
        current = day
        while count:
            current += dt.timedelta(days=1)
            if self.is_working_day(current):
                count -= 1
        return current

    def between(self, start: dt.date, end: dt.date) -> int:
        """Working days after ``start`` up to and including ``end`` (0 when
        ``end`` is not after ``start``)."""
        if end <= start:
            return 0
        whole_weeks, rest = divmod((end - start).days, 7)
        count = 0
        # Weekdays in the whole weeks, then the remaining days one by one.
        count += whole_weeks * 5
        day = start + dt.timedelta(days=whole_weeks * 7)
        for _step in range(rest):
            day += dt.timedelta(days=1)
            if day.weekday() < 5:
                count += 1
        # Less the weekday days off in (start, end].
        for year in range(start.year, end.year + 1):
            count -= sum(
                1 for d in self.days_off(year) if start < d <= end and d.weekday() < 5
            )
        return count

    def due(self, received: dt.datetime, days: int) -> dt.datetime:
        """When a promise of ``days`` working days made at ``received`` is
        broken: when the working day after the ``days``-th working day after
        its Stockholm date begins. Until then it took at most ``days`` working
        days (days off after the last one add none)."""
        return dt.datetime.combine(
            self.add(local_date(received), days + 1), dt.time(), stockholm()
        )

    def last_day(self, due: dt.datetime) -> dt.date:
        """The promise's last working day, shown to people ("by 30 December"):
        the last working day before ``due`` (as ``due`` gives it)."""
        day = local_date(due) - dt.timedelta(days=1)
        while not self.is_working_day(day):
            day -= dt.timedelta(days=1)
        return day

    def taken(self, start: dt.datetime, end: dt.datetime) -> int:
        """The working days from ``start`` to ``end`` (Stockholm dates)."""
        return self.between(local_date(start), local_date(end))


def working_days(
    *,
    midsummer_eve_off: bool = True,
    christmas_eve_off: bool = True,
    new_years_eve_off: bool = True,
    extra_days_off: str = "",
) -> WorkingDays:
    """A calendar from a kommun's choices (``WorkCalendar``'s fields)."""
    chosen = {
        "midsummer_eve": midsummer_eve_off,
        "christmas_eve": christmas_eve_off,
        "new_years_eve": new_years_eve_off,
    }
    return WorkingDays(
        de_facto_off=frozenset(key for key, off in chosen.items() if off),
        extra_off=frozenset(extra_days_parse(extra_days_off)),
    )
