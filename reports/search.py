"""Staff search over reports' text: one place for what is searched and how.

A report's title, description and address are kept lower-cased in one column,
``Report.search_text``, which the database itself computes on every write (a
stored generated column, so no writer can forget it). Each database gets the
index that answers "contains" fastest (bench/inbox.py):

- PostgreSQL: a trigram GIN index (``pg_trgm``), which finds the rows holding
  a text of three or more characters without reading the others;
- SQLite: a b-tree over (kommun, received, number, status, text), which
  answers a kommun's search newest first (ties by number, as the inbox sorts)
  from the index alone, read in order, without fetching each report's row.

Neither index can be declared on the model for both databases (a b-tree over
the text would exceed PostgreSQL's row size for a long description, and GIN
does not exist in SQLite), so :func:`search_index_ensure` makes the one the
database needs; it runs in the migration that adds the column and again after
every ``migrate``, since SQLite's table rebuilds keep only declared indexes.
"""

from __future__ import annotations

import logging

from django.db import DatabaseError, transaction
from django.db.models import Q, Value
from django.db.models.functions import Lower

logger = logging.getLogger(__name__)

INDEX_NAME = "report_search"

_SQLITE_COLUMNS = "(municipality_id, created_at, id, status, search_text)"
_SQLITE_INDEX = (
    f"CREATE INDEX IF NOT EXISTS {INDEX_NAME} ON reports_report {_SQLITE_COLUMNS}"
)
_POSTGRES_INDEX = (
    f"CREATE INDEX IF NOT EXISTS {INDEX_NAME} ON reports_report "
    "USING gin (search_text gin_trgm_ops)"
)


def search_index_ensure(connection) -> bool:
    """Make the search index of ``connection``'s database if it is missing.
    False where PostgreSQL's ``pg_trgm`` cannot be had (the search then reads
    every report in scope: slower, still right)."""
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            # An index of an earlier version (other columns) is made anew.
            cursor.execute(
                "SELECT sql FROM sqlite_master WHERE type = 'index' AND name = %s",
                [INDEX_NAME],
            )
            found = cursor.fetchone()
            if found and not found[0].endswith(_SQLITE_COLUMNS):
                cursor.execute(f"DROP INDEX {INDEX_NAME}")
            cursor.execute(_SQLITE_INDEX)
            return True
        if connection.vendor != "postgresql":
            return False
        try:
            with transaction.atomic(using=connection.alias):
                cursor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        except DatabaseError:
            logger.warning(
                "pg_trgm is not available: staff search reads every report in scope"
            )
            return False
        cursor.execute(_POSTGRES_INDEX)
        return True


def text_variants(value: str) -> list[str]:
    """The forms of a searched text that are looked for.

    The stored text is folded by the database's own ``LOWER``, which in SQLite
    (and in PostgreSQL under the C locale) folds only A–Z: "Östra" stays
    "Östra" while "östra" is typed. Each form is folded by that same function
    in the query, so a form matches where it equals the stored text up to
    what the database folds: as typed, all lower case, each word capitalised
    (street names), and all upper case. A text of A–Z alone needs one form:
    every database folds those letters."""
    if value.isascii():
        return [value]
    forms = [value, value.lower(), value.title(), value.upper()]
    return list(dict.fromkeys(forms))


def text_q(value: str) -> Q:
    """Reports whose title, description or address contains ``value``."""
    found = Q()
    for form in text_variants(value):
        found |= Q(search_text__contains=Lower(Value(form)))
    return found


def reference_variants(value: str) -> list[str]:
    """A case system's reference as a caller may read it out: as typed, in
    upper and in lower case. References are matched whole, on an index."""
    return list(dict.fromkeys([value, value.upper(), value.lower()]))
