"""Statistics of reports, read from the milestone fields that
``reports.milestones`` keeps on each report (its docstring defines first
response, fixed, closed and the promise; nothing here reads events).

Given reports already scoped (a kommun's, the nation's, a member of staff's
filtered inbox) and a range of Stockholm dates on ``received_on``, two GROUP
BY queries answer everything, each from an index alone:

1. per ([kommun,] month received, category, body, channel, working days to
   the first response): received, open, fixed, closed (other than fixed and
   duplicate), duplicates, the promises kept and missed, and how many (not
   duplicates) were answered after so many working days;
2. per the same groups with ``fix_days`` instead: how many were fixed after
   so many working days.

The groups are in the order of the ``report_stats`` and ``report_stats_fix``
indexes, so the database groups them as it reads the index, without sorting
(SQLite sorting 100,000 rows for a GROUP BY took most of a second).

Python then adds the groups up per dimension (a few hundred or thousand
groups, never one per report), and the medians and 90th percentiles come
exactly from the histograms of working days.

The rules of counting:

- A report counts once, for the kommun and body holding it now, in the month
  it was received, by its current status.
- **Time to first response** and **to fix**, in the holder's working days: the
  nearest-rank percentile, the smallest number of days within which at least
  half (the median) or 90 % of the reports were answered or fixed.
  Duplicates are left out; the time to fix counts reports fixed now.
- **A promise** is kept when the response (fix) took no more working days than
  promised, missed when it took more, or when there is none yet and its due
  moment has passed; otherwise it is pending and not counted. Reports without
  a promise, and duplicates, are not counted; a report closed other than fixed
  is not counted for the fix promise (nothing was fixed).
- **"Is it fixed?"** (``questionnaire_counts``): the reporters' answers given
  in the period (Stockholm dates), of the scope's reports: "yes", "no", and
  the "no"s that reopened a fixed or closed report. A report deleted since
  takes its answers with it.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass, field

from django.db.models import Count, F, Q, QuerySet
from django.utils import timezone

from municipalities.workdays import stockholm
from reports.choices import (
    CLOSED_STATUSES,
    OPEN_STATUSES,
    QuestionnaireAnswer,
    ReportStatus,
)
from reports.models import Questionnaire

# The dimensions every figure is broken down by, as Report fields, in the
# order of the report_stats index (after the kommun).
DIMENSIONS = ("received_month", "category", "body", "channel")
NATIONAL_DIMENSIONS = ("municipality", *DIMENSIONS)
OTHER_CLOSED = CLOSED_STATUSES - {ReportStatus.FIXED, ReportStatus.DUPLICATE}
COUNTS = (
    "received",
    "open",
    "fixed",
    "closed",
    "duplicates",
    "response_kept",
    "response_missed",
    "fix_kept",
    "fix_missed",
)


def _promise_counts(kind: str, promised: Q, now: dt.datetime) -> dict:
    """Kept and missed promises of one kind ("response" or "fix"), as SQL
    aggregates: kept when it took at most the promised working days; missed
    when it took more, or has not happened and its due moment has passed;
    otherwise pending and in neither."""
    days, promise, due = f"{kind}_days", f"promise_{kind}_days", f"{kind}_due_at"
    return {
        f"{kind}_kept": Count(
            "status",
            filter=promised
            & Q(**{f"{days}__isnull": False})
            & Q(**{f"{days}__lte": F(promise)}),
        ),
        f"{kind}_missed": Count(
            "status",
            filter=promised
            & (
                Q(**{f"{days}__gt": F(promise)})
                | Q(**{f"{days}__isnull": True, f"{due}__lt": now})
            ),
        ),
    }


def _counts(now: dt.datetime) -> dict:
    """The conditional counts of query 1, as SQL aggregates."""
    not_duplicate = ~Q(status=ReportStatus.DUPLICATE)
    response_promised = not_duplicate & Q(promise_response_days__isnull=False)
    fix_promised = Q(promise_fix_days__isnull=False) & ~Q(
        status__in=CLOSED_STATUSES - {ReportStatus.FIXED}
    )
    return {
        "received": Count("*"),
        "open": Count("status", filter=Q(status__in=OPEN_STATUSES)),
        "fixed": Count("status", filter=Q(status=ReportStatus.FIXED)),
        "closed": Count("status", filter=Q(status__in=OTHER_CLOSED)),
        "duplicates": Count("status", filter=Q(status=ReportStatus.DUPLICATE)),
        **_promise_counts("response", response_promised, now),
        **_promise_counts("fix", fix_promised, now),
        # Of the group's reports (one number of days to the first response),
        # those in the distribution.
        "answered": Count("status", filter=not_duplicate),
    }


def percentile(histogram: Counter, fraction: float) -> int | None:
    """The nearest-rank percentile of a histogram {days: reports}: the
    smallest number of days within which at least ``fraction`` of them fall."""
    total = sum(histogram.values())
    if not total:
        return None
    # The rank, rounded up, in integers (a float product could round wrongly).
    wanted = -(-total * round(fraction * 100) // 100)
    seen = 0
    for days in sorted(histogram):
        seen += histogram[days]
        if seen >= wanted:
            return days
    return None  # unreachable: seen reaches total


def share(kept: int, missed: int) -> float | None:
    """Kept of the promises that are decided, 0–1; None when none is."""
    decided = kept + missed
    return kept / decided if decided else None


@dataclass
class Row:
    """The figures of one group of reports (a category, a month, …)."""

    key: object = None
    label: str = ""
    received: int = 0
    open: int = 0
    fixed: int = 0
    closed: int = 0
    duplicates: int = 0
    response_kept: int = 0
    response_missed: int = 0
    fix_kept: int = 0
    fix_missed: int = 0
    response_histogram: Counter = field(default_factory=Counter)
    fix_histogram: Counter = field(default_factory=Counter)

    def add_counts(self, values: dict) -> None:
        for name in COUNTS:
            setattr(self, name, getattr(self, name) + values[name])

    @property
    def response_median(self) -> int | None:
        return percentile(self.response_histogram, 0.5)

    @property
    def response_p90(self) -> int | None:
        return percentile(self.response_histogram, 0.9)

    @property
    def fix_median(self) -> int | None:
        return percentile(self.fix_histogram, 0.5)

    @property
    def fix_p90(self) -> int | None:
        return percentile(self.fix_histogram, 0.9)

    @property
    def response_kept_share(self) -> float | None:
        return share(self.response_kept, self.response_missed)

    @property
    def fix_kept_share(self) -> float | None:
        return share(self.fix_kept, self.fix_missed)


@dataclass
class Figures:
    """Everything the statistics pages show for one scope and period."""

    start: dt.date
    end: dt.date
    total: Row
    # Keyed by dimension: "category", "body", "channel", "received_month" and,
    # nationally, "municipality"; each a dict {key: Row}.
    by: dict[str, dict[object, Row]]

    def rows(self, dimension: str) -> list[Row]:
        return list(self.by[dimension].values())


def months_between(start: dt.date, end: dt.date) -> list[dt.date]:
    """The first of each month from ``start``'s to ``end``'s."""
    months, month = [], start.replace(day=1)
    while month <= end:
        months.append(month)
        month = (month + dt.timedelta(days=32)).replace(day=1)
    return months


def figures_compute(
    reports: QuerySet,
    *,
    start: dt.date,
    end: dt.date,
    national: bool = False,
    now: dt.datetime | None = None,
) -> Figures:
    """The figures of ``reports`` (already scoped, without annotations, which
    would join the GROUP BY) received from ``start`` to
    ``end`` inclusive (Stockholm dates). ``national`` adds the breakdown by
    kommun. Labels are the keys; ``stats.labels`` names them."""
    now = now or timezone.now()
    dimensions = NATIONAL_DIMENSIONS if national else DIMENSIONS
    # No ordering: the model's would join the GROUP BY. The months too, for
    # the index's sake: it is in order of month, not of day.
    received = reports.order_by().filter(
        received_month__range=(start.replace(day=1), end.replace(day=1)),
        received_on__range=(start, end),
    )
    by: dict[str, dict[object, Row]] = {name: {} for name in dimensions}
    by["received_month"] = {
        month: Row(key=month) for month in months_between(start, end)
    }
    total = Row()

    def rows_for(values: dict):
        yield total
        for name in dimensions:
            key = values[name]
            row = by[name].get(key)
            if row is None:
                row = by[name][key] = Row(key=key)
            yield row

    counted = received.values(*dimensions, "response_days").annotate(**_counts(now))
    for values in counted:
        days, answered = values["response_days"], values["answered"]
        for row in rows_for(values):
            row.add_counts(values)
            if days is not None and answered:
                row.response_histogram[days] += answered
    fixed = (
        received.exclude(status=ReportStatus.DUPLICATE)
        .filter(fix_days__isnull=False)
        .values(*dimensions, "fix_days")
        .annotate(n=Count("*"))
    )
    for values in fixed:
        for row in rows_for(values):
            row.fix_histogram[values["fix_days"]] += values["n"]
    return Figures(start=start, end=end, total=total, by=by)


@dataclass
class QuestionnaireCounts:
    """The reporters' answers to "is it fixed?" in a period."""

    sent: int = 0
    yes: int = 0
    no: int = 0
    reopened: int = 0


def questionnaire_counts(
    reports: QuerySet, *, start: dt.date, end: dt.date
) -> QuestionnaireCounts:
    """How the reporters of ``reports`` (already scoped) answered "is it
    fixed?" from ``start`` to ``end`` inclusive (Stockholm dates): sent in the
    period, and answered "yes", "no", and reopened by a "no"."""
    zone = stockholm()
    since = dt.datetime.combine(start, dt.time(), tzinfo=zone)
    until = dt.datetime.combine(end + dt.timedelta(days=1), dt.time(), tzinfo=zone)
    of_scope = Questionnaire.objects.filter(report__in=reports.order_by().values("pk"))
    answered = of_scope.filter(answered_at__gte=since, answered_at__lt=until)
    counts = answered.aggregate(
        yes=Count("pk", filter=Q(answer=QuestionnaireAnswer.YES)),
        no=Count("pk", filter=Q(answer=QuestionnaireAnswer.NO)),
        reopened=Count("pk", filter=Q(reopened=True)),
    )
    sent = of_scope.filter(sent_at__gte=since, sent_at__lt=until).count()
    return QuestionnaireCounts(sent=sent, **counts)
