"""Queueing background tasks together with the write that causes them."""

from __future__ import annotations

from django.db import transaction
from django_tasks import task_backends
from django_tasks_db.backend import DatabaseBackend


def enqueue_with_transaction(task, *args, **kwargs) -> None:
    """Queue ``task`` so that it exists exactly when the surrounding write commits.

    With the database task backend the task row is written inside the current
    transaction: it commits or rolls back with the write, so a crash between the
    two can neither lose the task nor run it for a write that never happened
    (a transactional outbox). Any other backend queues after commit.
    """
    backend = task_backends[task.backend]
    if isinstance(backend, DatabaseBackend):
        task.enqueue(*args, **kwargs)
    else:
        transaction.on_commit(lambda: task.enqueue(*args, **kwargs))
