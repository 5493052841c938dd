"""The ASGI server of ``manage.py serve`` and the watchers on its process: uvicorn
with uvloop, event-loop stalls logged, and the cycle collector kept off the
request path."""

from __future__ import annotations

import asyncio
import gc
import logging
import time

import uvicorn

logger = logging.getLogger("knutpunkt.serve")


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
        # The client's address is worked out in one place, from the configured
        # number of proxies (infra.ratelimit.client_address); uvicorn would
        # otherwise take X-Forwarded-For from any peer on 127.0.0.1.
        proxy_headers=False,
        access_log=False,
        log_config=None,
    )
