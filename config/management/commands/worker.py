import signal
import threading

from django.core.management.base import BaseCommand

from casehub.dispatcher import Dispatcher
from config.periodic import PERIODIC_JOBS
from infra.periodic import periodic_start
from infra.taskworker import task_worker


class Command(BaseCommand):
    help = (
        "Background work of the scaled profile: the task queue (with the daily "
        "digests', the alerts' and the questionnaires' schedulers and scheduled "
        "publishing: config.periodic) and the delivery outbox (run one or more "
        "beside the servers)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--interval", type=float, default=0.5)
        parser.add_argument("--no-tasks", action="store_true", help="Deliveries only.")
        parser.add_argument("--no-deliveries", action="store_true", help="Tasks only.")
        parser.add_argument(
            "--threads", type=int, default=None, help="Delivery threads."
        )

    def handle(self, *args, interval, no_tasks, no_deliveries, threads, **options):
        stop = threading.Event()
        dispatcher = None
        if not no_deliveries:
            dispatcher = threading.Thread(
                target=Dispatcher(threads=threads).run,
                args=(stop,),
                name="delivery-dispatcher",
            )
            dispatcher.start()
        if not no_tasks:
            for job in PERIODIC_JOBS:
                periodic_start(job, stop)
        self.stdout.write(
            f"Worker: tasks {'off' if no_tasks else 'on'}, "
            f"deliveries {'off' if no_deliveries else 'on'}"
        )
        self.stdout.flush()
        try:
            if no_tasks:
                for signum in (signal.SIGINT, signal.SIGTERM):
                    signal.signal(signum, lambda *_: stop.set())
                stop.wait()
            else:
                worker = task_worker(interval, "worker")
                worker.configure_signals()
                worker.run()
        finally:
            stop.set()
            if dispatcher is not None:
                dispatcher.join()
