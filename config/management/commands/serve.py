import threading
from argparse import BooleanOptionalAction

from django.conf import settings
from django.core.management.base import BaseCommand

from casehub.dispatcher import dispatcher_start
from config.asgi import application
from config.demo import format_demo_accounts
from config.demo_case_system import demo_case_system_start
from config.periodic import PERIODIC_JOBS
from infra.periodic import periodic_start
from infra.server import (
    WatchedServer,
    collector_full_passes,
    collector_tune,
    collector_watch,
    uvicorn_config,
)
from infra.taskworker import task_worker


def _start_embedded_worker(interval: float) -> None:
    """Work the task queue and the delivery outbox, claim the daily digests,
    the alerts' hourly ones and the due "is it fixed?" questionnaires, and
    publish what is scheduled, on threads of this process (embedded default)."""
    worker = task_worker(interval, "embedded")
    threading.Thread(target=worker.run, name="task-worker", daemon=True).start()
    dispatcher_start()
    for job in PERIODIC_JOBS:
        periodic_start(job)


class Command(BaseCommand):
    help = (
        "Serve HTTP and websockets (uvicorn). In the embedded default the task "
        "worker and the delivery dispatcher run inside this process; in the scaled "
        "profile run `worker` processes beside it."
    )

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument(
            "--worker",
            action=BooleanOptionalAction,
            default=None,
            help="Run the task worker in this process (default: embedded profile only).",
        )
        parser.add_argument("--worker-interval", type=float, default=0.5)

    def handle(self, *args, host, port, worker, worker_interval, **options):
        if worker is None:
            worker = settings.KNUTPUNKT_EMBEDDED_WORKER
        if worker:
            _start_embedded_worker(worker_interval)
        base_url = (
            f"http://{'localhost' if host in ('127.0.0.1', '0.0.0.0') else host}:{port}"  # noqa: S104
        )
        self.stdout.write(
            f"Knutpunkt at {base_url}/ (kommun sites: http://malmo.localhost:{port}/ …)"
        )
        self.stdout.write(
            f"Task worker: {'inside this process' if worker else 'separate processes'}"
        )
        if settings.KNUTPUNKT_EMBEDDED_WORKER:
            self.stdout.write(format_demo_accounts(base_url))
        demo_case_system = demo_case_system_start()
        if demo_case_system is not None:
            self.stdout.write(
                "Demo case system (Open311, Malmö's street department) at "
                f"{demo_case_system.url}"
            )
        self.stdout.flush()
        server = WatchedServer(uvicorn_config(application, host, port))
        collector_tune()
        collector_watch()
        threading.Thread(
            target=collector_full_passes,
            args=(settings.KNUTPUNKT_GC_FULL_PASS_SECONDS,),
            name="gc-full-pass",
            daemon=True,
        ).start()
        try:
            server.run()
        except KeyboardInterrupt:  # Ctrl-C: the server has already shut down
            pass
