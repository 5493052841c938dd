"""The dispatcher: claims due deliveries and sends them on a pool of threads, and
on its loop resolves Open311 tokens and polls case systems for status updates.

One runs on a thread of ``manage.py serve`` in the embedded default, and of each
``manage.py worker`` process in the scaled profile.
"""

from __future__ import annotations

import logging
import threading
import time
from concurrent.futures import ThreadPoolExecutor

from django.db import DatabaseError, close_old_connections

from .outbox import (
    Claim,
    deliveries_claim,
    delivery_attempt,
    outbox_setting,
    outbox_wake,
    tokens_resolve,
)
from .polling import updates_poll_due

logger = logging.getLogger("knutpunkt.delivery")


class Dispatcher:
    """Claims due deliveries and sends them on a pool of threads until stopped."""

    def __init__(self, *, threads: int | None = None, poll: float | None = None):
        self.threads = threads or int(outbox_setting("threads"))
        self.poll = poll if poll is not None else outbox_setting("poll_seconds")
        self._busy = 0
        self._lock = threading.Lock()

    def _run_one(self, claim: Claim) -> None:
        try:
            delivery_attempt(claim=claim)
        except DatabaseError:
            # The lease runs out and another attempt follows; nothing is lost.
            logger.exception("Delivery %s: database error", claim.delivery_id)
        finally:
            close_old_connections()
            with self._lock:
                self._busy -= 1
            outbox_wake.set()

    def run(self, stop: threading.Event) -> None:
        pool = ThreadPoolExecutor(self.threads, thread_name_prefix="delivery")
        next_token_check = 0.0
        try:
            while not stop.is_set():
                with self._lock:
                    free = self.threads - self._busy
                claims: list[Claim] = []
                try:
                    claims = deliveries_claim(limit=free)
                    if time.monotonic() >= next_token_check:
                        tokens_resolve()
                        try:
                            updates_poll_due()
                        except Exception:
                            logger.exception("Polling case systems for updates failed")
                        next_token_check = (
                            time.monotonic() + outbox_setting("token_check_seconds") / 4
                        )
                except DatabaseError:
                    logger.exception("Claiming deliveries failed")
                    close_old_connections()
                    stop.wait(self.poll)
                with self._lock:
                    self._busy += len(claims)
                for claim in claims:
                    pool.submit(self._run_one, claim)
                if not claims:
                    outbox_wake.wait(self.poll)
                    outbox_wake.clear()
        finally:
            pool.shutdown(wait=True)
            close_old_connections()


def dispatcher_start(
    *, threads: int | None = None
) -> tuple[threading.Thread, threading.Event]:
    """Run a dispatcher on a daemon thread of this process."""
    stop = threading.Event()
    thread = threading.Thread(
        target=Dispatcher(threads=threads).run,
        args=(stop,),
        name="delivery-dispatcher",
        daemon=True,
    )
    thread.start()
    return thread, stop
