"""SQLite for the embedded default: one writer at a time, queued in the process.

SQLite lets one connection write at a time. A connection that finds the write
lock taken waits in SQLite's busy handler, which sleeps 1, 2, 5, 10, 15, 20, 25,
25, 25, 50, 50 and then 100 ms between looks: a writer that comes while another
holds the lock for a few milliseconds starts 8, 18, 33 or 53 ms later, and under
steady writing can miss its turn for a second or more. A case system's signal
then waits for the task worker's bookkeeping, and every watcher waits with it.

The server process writes from its request, task and delivery threads, so here
they queue on a lock of the process instead: a transaction (``BEGIN IMMEDIATE``,
which takes SQLite's write lock at once) first takes the process's writer lock,
and gives it back when it commits, rolls back or its connection closes, and the
next writer starts at that moment. Other processes (a management command beside
the server) still meet SQLite's busy handler, as before. Single statements
outside a transaction are not queued: they hold SQLite's lock only for as long
as SQLite runs them.
"""

from __future__ import annotations

import threading

from django.db import OperationalError
from django.db.backends.sqlite3 import base

# One per process: every connection of the process writes to the same file.
writer_lock = threading.Lock()


class DatabaseWrapper(base.DatabaseWrapper):
    _holds_writer_lock = False

    def _start_transaction_under_autocommit(self):
        # As long as SQLite would wait for its own lock ("timeout" in OPTIONS).
        timeout = float(self.settings_dict["OPTIONS"].get("timeout", 5))
        if not writer_lock.acquire(timeout=timeout):
            raise OperationalError("database is locked (by this process's writer)")
        self._holds_writer_lock = True
        try:
            super()._start_transaction_under_autocommit()
        except BaseException:
            self._release_writer_lock()
            raise

    def _release_writer_lock(self):
        if self._holds_writer_lock:
            self._holds_writer_lock = False
            writer_lock.release()

    def _commit(self):
        try:
            return super()._commit()
        finally:
            self._release_writer_lock()

    def _rollback(self):
        try:
            return super()._rollback()
        finally:
            self._release_writer_lock()

    def _close(self):
        try:
            return super()._close()
        finally:
            self._release_writer_lock()
