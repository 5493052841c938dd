"""An index for the staff inbox's free-text search (reports.search): FTS5 with
the trigram tokenizer on SQLite, kept in step by triggers; pg_trgm GIN indexes
on PostgreSQL. Other databases go without (the search reads the texts)."""

from django.db import migrations

SQLITE_UP = [
    """CREATE VIRTUAL TABLE report_text_search USING fts5(
        title, description, address,
        tokenize='trigram', content='reports_report', content_rowid='id')""",
    """INSERT INTO report_text_search(rowid, title, description, address)
        SELECT id, title, description, address FROM reports_report""",
    """CREATE TRIGGER report_text_search_insert AFTER INSERT ON reports_report BEGIN
        INSERT INTO report_text_search(rowid, title, description, address)
        VALUES (new.id, new.title, new.description, new.address);
    END""",
    """CREATE TRIGGER report_text_search_delete AFTER DELETE ON reports_report BEGIN
        INSERT INTO report_text_search(report_text_search, rowid, title, description, address)
        VALUES ('delete', old.id, old.title, old.description, old.address);
    END""",
    """CREATE TRIGGER report_text_search_update
        AFTER UPDATE OF title, description, address ON reports_report BEGIN
        INSERT INTO report_text_search(report_text_search, rowid, title, description, address)
        VALUES ('delete', old.id, old.title, old.description, old.address);
        INSERT INTO report_text_search(rowid, title, description, address)
        VALUES (new.id, new.title, new.description, new.address);
    END""",
]
SQLITE_DOWN = [
    "DROP TRIGGER IF EXISTS report_text_search_update",
    "DROP TRIGGER IF EXISTS report_text_search_delete",
    "DROP TRIGGER IF EXISTS report_text_search_insert",
    "DROP TABLE IF EXISTS report_text_search",
]
POSTGRES_UP = [
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    *(
        f"CREATE INDEX IF NOT EXISTS report_{name}_trgm ON reports_report "
        f"USING gin ({name} gin_trgm_ops)"
        for name in ("title", "description", "address")
    ),
]
POSTGRES_DOWN = [
    f"DROP INDEX IF EXISTS report_{name}_trgm"
    for name in ("title", "description", "address")
]


def _run(statements_by_vendor):
    def run(apps, schema_editor):
        for statement in statements_by_vendor.get(schema_editor.connection.vendor, ()):
            schema_editor.execute(statement)

    return run


class Migration(migrations.Migration):
    dependencies = [("reports", "0013_service_promises")]

    operations = [
        migrations.RunPython(
            _run({"sqlite": SQLITE_UP, "postgresql": POSTGRES_UP}),
            _run({"sqlite": SQLITE_DOWN, "postgresql": POSTGRES_DOWN}),
        )
    ]
