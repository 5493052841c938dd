"""Work done every so many seconds on a daemon thread of the server (embedded
profile) or of each worker (scaled profile): the overdue digests' claims,
scheduled publishing, the "is it fixed?" questionnaires, the alerts' digests.
Each job's step claims what it does in the database, so that several processes
running the same job never do it twice; a step that fails on the database is
logged and tried again next time."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass

from django.db import DatabaseError, close_old_connections


@dataclass(frozen=True)
class Periodic:
    name: str  # the thread's
    step: Callable[[], object]
    every: Callable[[], float]  # seconds, read when the job starts
    failed: str  # what the log says when a step fails
    logger: logging.Logger


def periodic_run(job: Periodic, stop: threading.Event) -> None:
    """Take the job's step every ``job.every()`` seconds until ``stop``."""
    every = job.every()
    while not stop.is_set():
        try:
            job.step()
        except DatabaseError:
            job.logger.exception(job.failed)
        finally:
            close_old_connections()
        stop.wait(every)


def periodic_start(
    job: Periodic, stop: threading.Event | None = None
) -> tuple[threading.Thread, threading.Event]:
    """Run the job on a daemon thread of this process, until ``stop``."""
    stop = stop or threading.Event()
    thread = threading.Thread(
        target=periodic_run, args=(job, stop), name=job.name, daemon=True
    )
    thread.start()
    return thread, stop
