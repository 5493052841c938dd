"""Free-text search over reports' title, description and address, answered
from an index on both databases instead of reading every report:

- SQLite: an FTS5 table with the trigram tokenizer (``report_text_search``,
  external content: the report table itself, kept in step by triggers that
  the migration made), asked for the words as one phrase: a substring match,
  case folded for every letter (å, ä and ö too, which SQLite's LIKE folds not);
- PostgreSQL: ``ILIKE`` on the three columns, each with a pg_trgm GIN index.

Fewer than three characters have no trigram: such a search reads the texts
(``icontains``), as it always did. ``tests/reports/test_search.py`` checks
that the index follows every insert, edit and delete.
"""

from __future__ import annotations

from django.db import connection
from django.db.models import Q
from django.db.models.expressions import RawSQL

FTS_TABLE = "report_text_search"
TEXT_FIELDS = ("title", "description", "address")


def _like_escaped(value: str) -> str:
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def text_matches(value: str) -> Q:
    """Reports whose title, description or address contain ``value``, any
    case."""
    value = value.strip()
    if len(value) >= 3 and connection.vendor == "sqlite":
        phrase = '"' + value.replace('"', '""') + '"'
        # The table name is ours; the phrase goes as a parameter.
        sql = f"SELECT rowid FROM {FTS_TABLE} WHERE {FTS_TABLE} MATCH %s"  # noqa: S608
        return Q(pk__in=RawSQL(sql, [phrase]))  # noqa: S611
    if len(value) >= 3 and connection.vendor == "postgresql":
        pattern = f"%{_like_escaped(value)}%"
        # Column names are ours; the pattern goes as a parameter.
        sql = "SELECT id FROM reports_report WHERE " + " OR ".join(  # noqa: S608
            f"{name} ILIKE %s" for name in TEXT_FIELDS
        )
        return Q(pk__in=RawSQL(sql, [pattern] * len(TEXT_FIELDS)))  # noqa: S611
    found = Q()
    for name in TEXT_FIELDS:
        found |= Q(**{f"{name}__icontains": value})
    return found
