"""The dispatcher: works the outbox in rounds on one thread, sends on a pool.

Its own thread does all the database work, a few statements a round for many
deliveries at once:

- it records the outcomes that came back (one transaction) once several have,
  or the first has waited ``RECORD_WAIT_SECONDS``;
- it claims due deliveries (one transaction) and loads them (one read) once
  two thirds of its queue have gone: it keeps up to ``QUEUE_PER_THREAD`` times
  as many claimed as it has sending threads, so the threads never wait for a
  round;
- it renews the leases of what it holds, and now and then has Open311 tokens
  resolved and case systems polled for status updates on a sending thread.

The sending threads only talk to case systems. One dispatcher runs on a thread
of ``manage.py serve`` in the embedded default, and of each ``manage.py worker``
process in the scaled profile.
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

# Claimed deliveries held per sending thread (queued or being sent).
QUEUE_PER_THREAD = 3
# How long a finished delivery may wait to be recorded with others.
RECORD_WAIT_SECONDS = 0.05


class Dispatcher:
    """Claims due deliveries and sends them on a pool of threads until stopped."""

    def __init__(self, *, threads: int | None = None, poll: float | None = None):
        self.threads = threads or int(outbox_setting("threads"))
        self.poll = poll if poll is not None else outbox_setting("poll_seconds")
        self.queue = QUEUE_PER_THREAD * self.threads
        self._done: deque[tuple[float, Outcome]] = deque()
        # Lease tokens of what is queued or being sent, with how many of their
        # deliveries.
        self._held: dict = {}
        self._housekeeping = threading.Event()  # set while it runs
        self._idle = True  # the last claim found nothing

    def _send(self, job: Job) -> None:
        try:
            self._done.append((time.monotonic(), job_send(job)))
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

    def _held_count(self) -> int:
        return sum(self._held.values())

    def _record(self, *, now: float, flush: bool = False) -> int:
        """Record what came back: in batches, unless ``flush``."""
        done = self._done
        if not done:
            return 0
        batch = self.threads
        if not flush and len(done) < batch and now - done[0][0] < RECORD_WAIT_SECONDS:
            if len(done) < self._held_count():  # more are coming
                return 0
        outcomes = []
        while done:
            outcomes.append(done.popleft()[1])
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
                self._held[token] -= 1
                if not self._held[token]:
                    del self._held[token]
        return len(outcomes)

    def _claim(self, pool: ThreadPoolExecutor) -> int:
        held = self._held_count()
        if held > self.queue // 3:
            return 0
        try:
            jobs = deliveries_load(
                deliveries_claim(limit=self.queue - held, look_first=self._idle)
            )
        except DatabaseError:
            logger.exception("Claiming deliveries failed")
            close_old_connections()
            return 0
        self._idle = not jobs
        for job in jobs:
            token = job.claim.lease_token
            self._held[token] = self._held.get(token, 0) + 1
            pool.submit(self._send, job)
        return len(jobs)

    def _renew(self) -> None:
        try:
            leases_renew(tokens=list(self._held))
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
                now = time.monotonic()
                worked = self._record(now=now)
                worked += self._claim(pool)
                if self._held and now >= next_renewal:
                    self._renew()
                    next_renewal = now + lease / 3
                if now >= next_housekeeping and not self._housekeeping.is_set():
                    self._housekeeping.set()
                    pool.submit(self._housekeep)
                    next_housekeeping = now + outbox_setting("token_check_seconds") / 4
                if not worked:
                    # Outcomes waiting to be batched are recorded soon; else
                    # wait for a send to finish, new work, or the next look.
                    outbox_wake.wait(RECORD_WAIT_SECONDS if self._done else self.poll)
        finally:
            pool.shutdown(wait=True)
            self._record(now=time.monotonic(), flush=True)
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
