"""The embedded default's SQLite backend (config/db): the process's writers
queue on one lock, taken when a transaction begins and given back when it
commits, rolls back or its connection closes."""

from __future__ import annotations

import threading

import pytest
from django.db import OperationalError

from infra.db.base import DatabaseWrapper, writer_lock


def wrapper(path, timeout: float = 5.0) -> DatabaseWrapper:
    """A connection of its own to a file database (made on the calling thread)."""
    return DatabaseWrapper(
        {
            "ENGINE": "infra.db",
            "NAME": str(path),
            "OPTIONS": {"timeout": timeout, "transaction_mode": "IMMEDIATE"},
            "TIME_ZONE": None,
            "CONN_MAX_AGE": 0,
            "CONN_HEALTH_CHECKS": False,
            "AUTOCOMMIT": True,
            "ATOMIC_REQUESTS": False,
            "USER": "",
            "PASSWORD": "",
            "HOST": "",
            "PORT": "",
            "TEST": {},
        },
        alias="writers",
    )


def begin(db: DatabaseWrapper) -> None:
    # What transaction.atomic does when it opens the outermost block.
    db.ensure_connection()
    db.set_autocommit(False, force_begin_transaction_with_broken_autocommit=True)


def finish(db: DatabaseWrapper, how: str) -> None:
    if how == "commit":
        db.commit()
    elif how == "rollback":
        db.rollback()
    else:
        db.close()
        return
    db.set_autocommit(True)


@pytest.fixture
def database(tmp_path, django_db_blocker):
    # A database file of these tests' own, not the suite's test database.
    django_db_blocker.unblock()
    path = tmp_path / "writers.sqlite3"
    db = wrapper(path)
    with db.cursor() as cursor:
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("CREATE TABLE t (who TEXT)")
    db.close()
    assert not writer_lock.locked()
    yield path
    django_db_blocker.restore()
    assert not writer_lock.locked()


@pytest.mark.parametrize("how", ["commit", "rollback", "close"])
def test_a_transaction_holds_the_writer_lock_until_it_ends(database, how):
    db = wrapper(database)
    begin(db)
    with db.cursor() as cursor:
        cursor.execute("INSERT INTO t VALUES ('a')")
    assert writer_lock.locked()
    finish(db, how)
    assert not writer_lock.locked()
    rows = wrapper(database).cursor().execute("SELECT who FROM t").fetchall()
    assert rows == ([("a",)] if how == "commit" else [])


def test_the_next_writer_starts_when_the_one_before_commits(database):
    log: list[str] = []
    first_in, first_may_commit = threading.Event(), threading.Event()

    def first():
        db = wrapper(database)
        begin(db)
        db.cursor().execute("INSERT INTO t VALUES ('first')")
        log.append("first began")
        first_in.set()
        first_may_commit.wait(5)
        log.append("first commits")
        finish(db, "commit")

    def second():
        db = wrapper(database)
        first_in.wait(5)
        begin(db)  # waits for the writer lock
        log.append("second began")
        db.cursor().execute("INSERT INTO t VALUES ('second')")
        finish(db, "commit")
        db.close()

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for thread in threads:
        thread.start()
    first_in.wait(5)
    threads[1].join(0.2)
    assert threads[1].is_alive() and log == ["first began"]  # queued behind first
    first_may_commit.set()
    for thread in threads:
        thread.join(5)
    assert log == ["first began", "first commits", "second began"]
    rows = wrapper(database).cursor().execute("SELECT who FROM t").fetchall()
    assert rows == [("first",), ("second",)]


def test_a_writer_that_waits_too_long_is_told_the_database_is_locked(database):
    holder_in, release = threading.Event(), threading.Event()

    def holder():
        db = wrapper(database)
        begin(db)
        holder_in.set()
        release.wait(5)
        finish(db, "rollback")

    thread = threading.Thread(target=holder)
    thread.start()
    holder_in.wait(5)
    try:
        impatient = wrapper(database, timeout=0.1)
        with pytest.raises(OperationalError, match="database is locked"):
            begin(impatient)
        impatient.close()
    finally:
        release.set()
        thread.join(5)
