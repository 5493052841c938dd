"""Queueing background tasks together with the write that causes them, and
the order the worker takes them in."""

from __future__ import annotations

from django.db import transaction
from django_tasks import task_backends
from django_tasks_db.backend import DatabaseBackend

# The worker takes the ready task of highest priority first (django-tasks-db
# claims by priority, then by when it may run). A mail someone is waiting for
# now (a link to confirm, to sign in, a code) goes before the rest; batches
# nobody waits on (digests, the "is it fixed?" round, rebuilds) go last, so a
# kommun's digests queued at their hour hold up no citizen's confirmation by
# more than the one task being worked.
PRIORITY_WAITED_FOR = 50
PRIORITY_BATCH = -50


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
