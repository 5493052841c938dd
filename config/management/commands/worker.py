import signal
import threading

from django.core.management.base import BaseCommand

from casehub.dispatcher import Dispatcher
from cms.scheduled import scheduled_publisher_run
from infra.taskworker import task_worker
from reports.alert_services import alert_scheduler_run
from reports.questionnaire_schedule import questionnaire_scheduler_run
from workspace.digest_schedule import digest_scheduler_run


class Command(BaseCommand):
    help = (
        "Background work of the scaled profile: the task queue (with the daily "
        "digests', the alerts' and the questionnaires' schedulers and scheduled "
        "publishing) "
        "and the delivery outbox (run one or more beside the servers)."
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
            # Every worker looks; the day's database row lets one send.
            threading.Thread(
                target=digest_scheduler_run,
                args=(stop,),
                name="digest-scheduler",
                daemon=True,
            ).start()
            # Every worker looks; each page is claimed before it is published.
            threading.Thread(
                target=scheduled_publisher_run,
                args=(stop,),
                name="scheduled-publisher",
                daemon=True,
            ).start()
            # Likewise the questionnaires: the claim of each lets one send.
            threading.Thread(
                target=questionnaire_scheduler_run,
                args=(stop,),
                name="questionnaire-scheduler",
                daemon=True,
            ).start()
            # Likewise the alerts' digests: a conditional update lets one send.
            threading.Thread(
                target=alert_scheduler_run,
                args=(stop,),
                name="alert-scheduler",
                daemon=True,
            ).start()
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
