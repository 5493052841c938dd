"""The statistics as tables: one per breakdown, the same for the page (an
accessible ``<table>`` under each chart), for the staff dashboard and for the
CSV export, so that a chart, its table and its file never disagree."""

from __future__ import annotations

import csv
import datetime as dt
import io
from dataclasses import dataclass

from django.utils import formats
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext, pgettext_lazy

from municipalities.models import Body, Category, Municipality
from reports.choices import ReportChannel

from .figures import Figures, Row

# The tables, in the order the pages show them: (name, dimension, caption).
TABLES = (
    ("month", "received_month", gettext_lazy("By month received")),
    ("category", "category", gettext_lazy("By category")),
    ("channel", "channel", gettext_lazy("By channel")),
    ("body", "body", pgettext_lazy("responsible organisation", "By body")),
    ("kommun", "municipality", gettext_lazy("By kommun")),
)
TABLE_NAMES = frozenset(name for name, _dimension, _caption in TABLES) | {"summary"}

# (attribute, heading, kind): kind "count", "days" or "share".
COLUMNS = (
    ("received", gettext_lazy("Received"), "count"),
    ("open", pgettext_lazy("statistics", "Open"), "count"),
    ("fixed", pgettext_lazy("statistics", "Fixed"), "count"),
    ("closed", gettext_lazy("Closed otherwise"), "count"),
    ("duplicates", gettext_lazy("Duplicates"), "count"),
    ("response_median", gettext_lazy("Working days to first response, median"), "days"),
    ("response_p90", gettext_lazy("Working days to first response, 90 %"), "days"),
    ("fix_median", gettext_lazy("Working days to fix, median"), "days"),
    ("fix_p90", gettext_lazy("Working days to fix, 90 %"), "days"),
    ("response_kept", gettext_lazy("Response promise kept"), "count"),
    ("response_missed", gettext_lazy("Response promise missed"), "count"),
    ("response_kept_share", gettext_lazy("Response promise kept, share"), "share"),
    ("fix_kept", gettext_lazy("Fix promise kept"), "count"),
    ("fix_missed", gettext_lazy("Fix promise missed"), "count"),
    ("fix_kept_share", gettext_lazy("Fix promise kept, share"), "share"),
)


@dataclass
class Table:
    name: str
    caption: str
    key_heading: str
    rows: list[Row]

    @property
    def columns(self):
        return COLUMNS

    def cells(self, row: Row) -> list[tuple[str, object]]:
        """(kind, value) of each column of ``row``."""
        return [(kind, getattr(row, attribute)) for attribute, _h, kind in COLUMNS]


def month_label(month: dt.date) -> str:
    return formats.date_format(month, "YEAR_MONTH_FORMAT")


def _names(model, keys) -> dict:
    return dict(
        model.objects.filter(pk__in=[k for k in keys if k]).values_list("pk", "name")
    )


def figures_label(figures: Figures) -> None:
    """Name every row (a few small reads) and put each breakdown in the order
    it is read: months in time, the rest by name."""
    figures.total.label = _("All reports")
    channels = dict(ReportChannel.choices)
    models = {"category": Category, "body": Body, "municipality": Municipality}
    for dimension, rows in figures.by.items():
        if dimension == "received_month":
            names = {key: month_label(key) for key in rows}
        elif dimension == "channel":
            names = {key: str(channels.get(key, key)) for key in rows}
        else:
            names = _names(models[dimension], rows)
        for key, row in rows.items():
            row.label = names.get(key, str(key))
        if dimension != "received_month":
            figures.by[dimension] = dict(
                sorted(rows.items(), key=lambda item: item[1].label.casefold())
            )


def tables_of(figures: Figures) -> list[Table]:
    headings = {
        "month": _("Month"),
        "category": _("Category"),
        "channel": _("Channel"),
        "body": pgettext_lazy("responsible organisation", "Body"),
        "kommun": _("Kommun"),
    }
    tables = [
        Table(
            "summary",
            str(_("All reports")),
            pgettext("citizen reports", "Reports"),
            [figures.total],
        )
    ]
    for name, dimension, caption in TABLES:
        if dimension in figures.by:
            tables.append(
                Table(name, str(caption), str(headings[name]), figures.rows(dimension))
            )
    return tables


def _csv_value(kind: str, value) -> str:
    if value is None:
        return ""
    if kind == "share":
        return f"{value:.3f}"
    return str(value)


def _csv_text(text: str) -> str:
    # A name a spreadsheet would take for a formula is written as text.
    return f"'{text}" if text[:1] in ("=", "+", "-", "@") else text


def table_csv(table: Table) -> str:
    """The table as CSV: the headings in the page's language, numbers plain
    (shares 0–1, months as YYYY-MM)."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([table.key_heading, *(str(h) for _a, h, _k in COLUMNS)])
    for row in table.rows:
        key = (
            row.key.strftime("%Y-%m")
            if isinstance(row.key, dt.date)
            else _csv_text(row.label)
        )
        writer.writerow(
            [key, *(_csv_value(kind, value) for kind, value in table.cells(row))]
        )
    return out.getvalue()
