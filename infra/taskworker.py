"""A worker of the database task queue (django-tasks-db) that looks for work with
a plain read first.

The library's own loop takes an exclusive transaction every ``interval`` to look
for a task. On SQLite that is the database's one write lock, which a request's
write then has to wait for. Here an idle worker only reads; when a task is ready,
the library's loop runs in batch mode, claiming tasks as it always does, until
the queue is empty again.
"""

from __future__ import annotations

import os
import socket
import time

from django.db import close_old_connections
from django_tasks import task_backends
from django_tasks_db.backend import DatabaseBackend
from django_tasks_db.management.commands.db_worker import Worker
from django_tasks_db.models import DBTaskResult


class TaskBackendError(RuntimeError):
    """The task worker was asked to run without the database task backend."""


class ReadFirstWorker(Worker):
    def run(self) -> None:
        while self.running:
            close_old_connections()
            ready = DBTaskResult.objects.ready().filter(backend_name=self.backend_name)
            ran = self._run_tasks
            if ready.exists():
                super().run()  # batch: returns once the queue is empty
            # Nothing ready, or what was ready another worker claimed.
            if self._run_tasks == ran and self.running:
                time.sleep(self.interval)


def task_worker(interval: float, name: str) -> ReadFirstWorker:
    """A worker of every queue of the default backend, looking every ``interval``."""
    if not isinstance(task_backends["default"], DatabaseBackend):
        raise TaskBackendError("The task worker needs the database task backend.")
    return ReadFirstWorker(
        queue_names=["*"],
        interval=interval,
        batch=True,
        backend_name="default",
        startup_delay=False,
        max_tasks=None,
        worker_id=f"{name}-{socket.gethostname()}-{os.getpid()}"[:64],
        excluded_queue_names=[],
    )
