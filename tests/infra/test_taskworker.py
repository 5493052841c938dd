"""The task worker of ``serve`` (embedded) and ``worker`` (scaled): it works what
is queued, and while idle it only reads, so that on SQLite it does not take the
database's write lock every interval."""

from __future__ import annotations

import threading

import pytest
from django.db import connection
from django_tasks_db.models import DBTaskResult

from infra.taskworker import task_worker
from tests.tasks import write_marker

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def database_tasks(settings):
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}


def run_for(worker, seconds: float) -> list[tuple[str, bool]]:
    """Run the worker on this thread for ``seconds``; every statement it sent,
    with whether it was inside a transaction."""
    seen: list[tuple[str, bool]] = []

    def record(execute, sql, params, many, context):
        seen.append((sql, connection.in_atomic_block))
        return execute(sql, params, many, context)

    stopper = threading.Timer(seconds, lambda: setattr(worker, "running", False))
    stopper.start()
    try:
        with connection.execute_wrapper(record):
            worker.run()
    finally:
        stopper.cancel()
    return seen


def test_an_idle_worker_looks_for_tasks_outside_any_transaction():
    seen = run_for(task_worker(0.02, "test"), 0.3)
    assert len(seen) >= 3  # it did look, several times
    assert [sql for sql, in_transaction in seen if in_transaction] == []


def test_the_worker_works_what_is_queued_then_idles_again(tmp_path):
    first, second = tmp_path / "first.txt", tmp_path / "second.txt"
    write_marker.enqueue(str(first), "ett")
    write_marker.enqueue(str(second), "två")

    seen = run_for(task_worker(0.02, "test"), 0.6)

    assert first.read_text() == "ett" and second.read_text() == "två"
    assert set(DBTaskResult.objects.values_list("status", flat=True)) == {"SUCCESSFUL"}
    # Claiming took transactions; once the queue was empty, plain reads again.
    assert any(in_transaction for _sql, in_transaction in seen)
    assert not seen[-1][1] and not seen[-2][1]


def test_a_mail_someone_waits_for_is_worked_before_batches_queued_earlier(tmp_path):
    """infra.tasks' priorities: a kommun's digests and the "is it fixed?"
    round, queued first, wait behind a confirmation queued after them."""
    from infra.tasks import PRIORITY_BATCH, PRIORITY_WAITED_FOR
    from reports.tasks import send_questionnaire_task, send_report_confirmation_task
    from workspace.tasks import send_overdue_digest_task

    assert send_overdue_digest_task.priority == PRIORITY_BATCH
    assert send_questionnaire_task.priority == PRIORITY_BATCH
    assert send_report_confirmation_task.priority == PRIORITY_WAITED_FOR
    send_overdue_digest_task.enqueue(1, "2026-12-07")
    send_report_confirmation_task.enqueue(1)
    assert (
        DBTaskResult.objects.ready()
        .first()
        .task_path.endswith("send_report_confirmation_task")
    )
    # And the worker works them in that order.
    DBTaskResult.objects.all().delete()
    batch, waited = tmp_path / "batch.txt", tmp_path / "waited.txt"
    write_marker.using(priority=PRIORITY_BATCH).enqueue(str(batch), "digest")
    write_marker.using(priority=PRIORITY_WAITED_FOR).enqueue(str(waited), "länk")
    run_for(task_worker(0.02, "test"), 0.6)
    assert waited.stat().st_mtime_ns <= batch.stat().st_mtime_ns
    worked = DBTaskResult.objects.order_by("started_at").values_list(
        "priority", flat=True
    )
    assert list(worked) == [PRIORITY_WAITED_FOR, PRIORITY_BATCH]
