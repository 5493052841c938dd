"""The dispatcher: works the outbox in rounds on one thread, sends on a pool.

Its own thread does all the database work, a few statements a round for many
deliveries: it records the outcomes that came back (one transaction), claims as
many due deliveries as it has free senders (one transaction), loads them (one
read) and hands them to its sending threads, which only talk to case systems.
It renews the leases of what is being sent, and now and then resolves Open311
tokens and polls case systems for status updates, on a sending thread.

One runs on a thread of ``manage.py serve`` in the embedded default, and of each
``manage.py worker`` process in the scaled profile.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from concurrent.futures import ThreadPoolExecutor

from django.db import DatabaseError, close_old_connections

from .outbox import (
    Job,
    Outcome,
    deliveries_claim,
    deliveries_load,
    job_send,
    leases_renew,
    outbox_setting,
    outbox_wake,
    outcomes_record,
    tokens_resolve,
)
from .polling import updates_poll_due

logger = logging.getLogger("knutpunkt.delivery")


class Dispatcher:
    """Claims due deliveries and sends them on a pool of threads until stopped."""

    def __init__(self, *, threads: int | None = None, poll: float | None = None):
        self.threads = threads or int(outbox_setting("threads"))
        self.poll = poll if poll is not None else outbox_setting("poll_seconds")
        self._done: deque[Outcome] = deque()
        # Lease tokens of what is being sent, with how many of their deliveries.
        self._in_flight: dict = {}
        self._housekeeping = threading.Event()  # set while it runs

    def _send(self, job: Job) -> None:
        try:
            self._done.append(job_send(job))
        finally:
            outbox_wake.set()

    def _housekeep(self) -> None:
        """Open311 tokens and status updates, on a sending thread: both talk to
        case systems, which must not hold up the rounds."""
        try:
            tokens_resolve()
            updates_poll_due()
        except Exception:
            logger.exception("Resolving tokens or polling case systems failed")
        finally:
            close_old_connections()
            self._housekeeping.clear()
            outbox_wake.set()

    def _record(self) -> int:
        outcomes = []
        while self._done:
            outcomes.append(self._done.popleft())
        if not outcomes:
            return 0
        try:
            outcomes_record(outcomes)
        except DatabaseError:
            # The leases run out and the deliveries are sent again, with the
            # same keys: nothing is lost, and nothing doubled where the case
            # system honours the key.
            logger.exception("Recording %d outcomes failed", len(outcomes))
            close_old_connections()
        finally:
            for outcome in outcomes:
                token = outcome.job.claim.lease_token
                self._in_flight[token] -= 1
                if not self._in_flight[token]:
                    del self._in_flight[token]
        return len(outcomes)

    def _busy(self) -> int:
        return sum(self._in_flight.values()) + self._housekeeping.is_set()

    def _claim(self, pool: ThreadPoolExecutor) -> int:
        free = self.threads - self._busy()
        if free <= 0:
            return 0
        try:
            jobs = deliveries_load(deliveries_claim(limit=free))
        except DatabaseError:
            logger.exception("Claiming deliveries failed")
            close_old_connections()
            return 0
        for job in jobs:
            token = job.claim.lease_token
            self._in_flight[token] = self._in_flight.get(token, 0) + 1
            pool.submit(self._send, job)
        return len(jobs)

    def _renew(self) -> None:
        try:
            leases_renew(tokens=list(self._in_flight))
        except DatabaseError:
            logger.exception("Renewing leases failed")
            close_old_connections()

    def run(self, stop: threading.Event) -> None:
        pool = ThreadPoolExecutor(self.threads, thread_name_prefix="delivery")
        lease = outbox_setting("lease_seconds")
        next_renewal = time.monotonic() + lease / 3
        next_housekeeping = 0.0
        try:
            while not stop.is_set():
                outbox_wake.clear()
                worked = self._record()
                worked += self._claim(pool)
                now = time.monotonic()
                if self._in_flight and now >= next_renewal:
                    self._renew()
                    next_renewal = now + lease / 3
                if now >= next_housekeeping and not self._housekeeping.is_set():
                    self._housekeeping.set()
                    pool.submit(self._housekeep)
                    next_housekeeping = now + outbox_setting("token_check_seconds") / 4
                if not worked:
                    outbox_wake.wait(self.poll)
        finally:
            pool.shutdown(wait=True)
            self._record()
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
