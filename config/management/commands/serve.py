import asyncio
import gc
import logging
import os
import socket
import threading
import time
from argparse import BooleanOptionalAction

import uvicorn
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django_tasks import task_backends

logger = logging.getLogger("knutpunkt.serve")


def task_worker(interval: float, name: str):
    """A worker of the database task queue (django-tasks-db) that looks for work
    with a plain read first.

    The library's own loop takes an exclusive transaction every ``interval`` to
    look for a task. On SQLite that is the database's one write lock, which a
    request's write then has to wait for (sleeping 1, 2, 5, 10 ms... in SQLite's
    busy handler). Here an idle worker only reads; when a task is ready, the
    library's loop runs in batch mode, claiming tasks as it always does, until the
    queue is empty again.
    """
    from django.db import close_old_connections
    from django_tasks_db.backend import DatabaseBackend
    from django_tasks_db.management.commands.db_worker import Worker
    from django_tasks_db.models import DBTaskResult

    if not isinstance(task_backends["default"], DatabaseBackend):
        raise CommandError("The task worker needs the database task backend.")

    class ReadFirstWorker(Worker):
        def run(self) -> None:
            while self.running:
                close_old_connections()
                ready = DBTaskResult.objects.ready().filter(
                    backend_name=self.backend_name
                )
                ran = self._run_tasks
                if ready.exists():
                    super().run()  # batch: returns once the queue is empty
                # Nothing ready, or what was ready another worker claimed.
                if self._run_tasks == ran and self.running:
                    time.sleep(self.interval)

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


def _start_embedded_worker(interval: float) -> None:
    """Work the task queue and the delivery outbox on threads of this process
    (embedded default)."""
    from reports.delivery import dispatcher_start

    worker = task_worker(interval, "embedded")
    threading.Thread(target=worker.run, name="task-worker", daemon=True).start()
    dispatcher_start()


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
        from config.asgi import application
        from config.demo import format_demo_accounts

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


def collector_tune() -> None:
    """Keep the cycle collector's full passes off the request path.

    A full pass walks every object the process tracks: with 10,000 open
    sockets that is about 1.5 million objects and a pause of about a second for
    every socket. CPython starts one whenever enough objects have outlived two
    young passes, which websocket pings make happen every few seconds. Here
    the young passes stay as they are; full passes run only on a timer
    (``collector_full_passes``). What was loaded at start-up lives as long as
    the process and is frozen out of every pass.
    """
    gc.collect()
    gc.freeze()
    young, middle, _old = gc.get_threshold()
    gc.set_threshold(young, middle, 1_000_000_000)


# A pause of the event loop or of the collector this long is logged: every
# socket of the process waits that long for its next frame.
STALL_SECONDS = 0.1


def collector_watch(threshold: float = STALL_SECONDS / 2):
    """Log each garbage collection that stops the process for ``threshold`` or
    longer, with its generation and the CPU time it used (less than the pause
    when the machine's cores were busy elsewhere); the callback."""
    started = (0.0, 0.0)

    def callback(phase: str, info: dict) -> None:
        nonlocal started
        if phase == "start":
            started = (time.perf_counter(), time.thread_time())
            return
        elapsed = time.perf_counter() - started[0]
        if elapsed >= threshold:
            logger.warning(
                "Garbage collection of generation %d stopped the process for "
                "%.0f ms (%.0f ms of CPU; %d objects freed)",
                info["generation"],
                elapsed * 1000,
                (time.thread_time() - started[1]) * 1000,
                info["collected"],
            )

    gc.callbacks.append(callback)
    return callback


async def loop_watch(period: float = STALL_SECONDS, threshold: float = STALL_SECONDS):
    """Log when the event loop comes back to a timer ``threshold`` or more late:
    something held it up (a slow callback, the collector, a starved core)."""
    loop = asyncio.get_running_loop()
    while True:
        started = loop.time()
        await asyncio.sleep(period)
        late = loop.time() - started - period
        if late >= threshold:
            logger.warning("The event loop was held up for %.0f ms", late * 1000)


async def collector_young_passes(seconds: float = 1.0) -> None:
    """Collect the young and middle generations once per ``seconds``.

    CPython starts a young pass when the objects it tracks have grown by 700
    since the last one: births minus deaths. Every open socket keeps a ping
    timer (a handle, a context, a coroutine and its frame...) that dies and is
    born again every 20 s, so births and deaths cancel out and young passes
    hardly ever start on their own, while the young generation grows to one
    new timer per socket. Measured with 10,000 sockets: 70,000-80,000 young
    objects and 50-80 ms of CPU in one pass, while a case system's signal
    waited. A pass every second keeps each one to the last second's objects.
    """
    while True:
        await asyncio.sleep(seconds)
        gc.collect(1)


class WatchedServer(uvicorn.Server):
    """uvicorn's server, with ``loop_watch`` and ``collector_young_passes`` on
    its event loop."""

    async def startup(self, sockets=None):
        await super().startup(sockets=sockets)
        self.loop_tasks = [
            asyncio.create_task(loop_watch(), name="loop-watch"),
            asyncio.create_task(collector_young_passes(), name="gc-young-passes"),
        ]


def collector_full_passes(seconds: float) -> None:
    """Collect every generation once per ``seconds``: cycles among objects that
    lived long (closed sockets, for one) are freed then."""
    while True:
        time.sleep(seconds)
        started = time.perf_counter()
        found = gc.collect()
        logger.info(
            "Full garbage collection: %d objects freed in %.0f ms",
            found,
            (time.perf_counter() - started) * 1000,
        )


def uvicorn_config(application, host: str, port: int):
    """The ASGI server: uvicorn with uvloop and httptools where installed, and
    websockets' sans-I/O protocol (each frame written straight to its socket)."""
    return uvicorn.Config(
        application,
        host=host,
        port=port,
        loop="auto",
        http="auto",
        ws="websockets-sansio",
        lifespan="off",
        # Browsers' sockets are pinged; one that does not answer is closed.
        ws_ping_interval=20.0,
        ws_ping_timeout=20.0,
        # Clients send nothing but pings and closes on these sockets.
        ws_max_size=64 * 1024,
        timeout_graceful_shutdown=5,
        server_header=False,
        access_log=False,
        log_config=None,
    )
