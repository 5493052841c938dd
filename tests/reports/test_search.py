"""The free-text search's index (reports.search) follows every insert, edit
and delete of a report, on whichever database the tests run, and finds what
``icontains`` finds, letters beyond ASCII in any case too."""

import pytest
from django.db import connection

from reports.models import Report
from reports.search import FTS_TABLE, text_matches
from tests.support.casework import MALMO, make_report

pytestmark = pytest.mark.django_db


def found(text):
    return set(Report.objects.filter(text_matches(text)).values_list("pk", flat=True))


def test_the_index_follows_inserts_edits_and_deletes():
    lamp = make_report(MALMO, title="Släckt lykta på Östra Förstadsgatan")
    hole = make_report(
        MALMO, title="Hål i vägen", description="Djupt hål vid busshållplatsen"
    )
    assert found("förstadsgatan") == {lamp.pk}
    assert found("ÖSTRA") == {lamp.pk}
    assert found("hållplats") == {hole.pk}
    assert found("ingenstans") == set()

    Report.objects.filter(pk=lamp.pk).update(
        title="Släckt lykta", address="Amiralsgatan 5"
    )
    assert found("förstadsgatan") == set()
    assert found("amiralsgatan") == {lamp.pk}

    Report.objects.filter(pk=hole.pk).delete()
    assert found("hållplats") == set()


def test_short_words_and_quotes_are_searched_too():
    quoted = make_report(
        MALMO, title='Skylten "Stopp" är borta', description="Vid 5:an"
    )
    assert found('"Stopp"') == {quoted.pk}
    assert found("5:") == {quoted.pk}
    assert found("%") == set()


@pytest.mark.skipif(connection.vendor != "sqlite", reason="the SQLite index")
def test_the_sqlite_index_is_the_fts_table_and_its_triggers():
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'reports_report'"
        )
        triggers = {row[0] for row in cursor.fetchall()}
        cursor.execute(f"SELECT count(*) FROM {FTS_TABLE}")  # noqa: S608 (our table)
    assert triggers == {
        "report_text_search_insert",
        "report_text_search_update",
        "report_text_search_delete",
    }
