"""Sending to channel-layer groups from anywhere: request threads, task and
delivery threads, or the server's own event loop.

With Redis (the scaled profile) any thread may send, through one event loop of
the process kept for sending (its Redis connections last). The in-memory layer
of the embedded profile lives on the server's event loop; a message from another
thread is handed to that loop, since asyncio queues are not thread-safe.

Receiving is per process, not per socket (``LocalFanout``): each server process
joins a group once and hands its messages to its own sockets.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import threading
import weakref

from channels import DEFAULT_CHANNEL_LAYER
from channels.layers import InMemoryChannelLayer, channel_layers, get_channel_layer

logger = logging.getLogger("knutpunkt.live")

_server_loop: asyncio.AbstractEventLoop | None = None
# A sender waits this long for the layer before it gives up (and logs it).
SEND_TIMEOUT_SECONDS = 10.0


def remember_server_loop() -> None:
    """Called on the server's event loop as it takes its first connection."""
    global _server_loop
    _server_loop = asyncio.get_running_loop()


class SenderLoop:
    """An event loop on a daemon thread of this process, for threads without one
    (request, task and delivery threads) to send on a layer that lives in a
    server (Redis). The layer keeps its connections per event loop: on this one
    they last, where ``async_to_sync`` would start a new loop, and open a new
    connection, for every send."""

    def __init__(self) -> None:
        self._loop: asyncio.AbstractEventLoop | None = None
        self._lock = threading.Lock()

    def _running_loop(self) -> asyncio.AbstractEventLoop:
        with self._lock:
            if self._loop is None or self._loop.is_closed():
                loop = asyncio.new_event_loop()
                started = threading.Event()
                thread = threading.Thread(
                    target=self._run,
                    args=(loop, started),
                    name="live-sender",
                    daemon=True,
                )
                thread.start()
                started.wait()
                self._loop = loop
            return self._loop

    @staticmethod
    def _run(loop: asyncio.AbstractEventLoop, started: threading.Event) -> None:
        asyncio.set_event_loop(loop)
        loop.call_soon(started.set)
        loop.run_forever()

    def run(self, coroutine, timeout: float = SEND_TIMEOUT_SECONDS):
        """Run ``coroutine`` on the loop and wait for its result."""
        future = asyncio.run_coroutine_threadsafe(coroutine, self._running_loop())
        try:
            return future.result(timeout)
        except concurrent.futures.TimeoutError:
            future.cancel()
            raise


_sender = SenderLoop()


def group_send(group: str, message: dict) -> None:
    """Send a message to a group; its receivers learn the group's name from it."""
    group_send_many([(group, message)])


def group_send_many(messages: list[tuple[str, dict]]) -> None:
    """Send each (group, message) in turn: one hand-over to the layer's loop for
    all of them. A broadcast never undoes or breaks the write it follows: a
    failure is logged, not raised."""
    layer = get_channel_layer()
    if layer is None or not messages:
        return
    messages = [(group, {**message, "group": group}) for group, message in messages]

    async def send_all() -> None:
        for group, message in messages:
            await layer.group_send(group, message)

    try:
        if isinstance(layer, InMemoryChannelLayer):
            _send_in_memory(send_all)
        else:
            _sender.run(send_all())
    except Exception:
        logger.exception("Sending to %s failed", ", ".join(g for g, _ in messages))


def _send_in_memory(send_all) -> None:
    """The in-memory layer lives on the server's event loop (asyncio queues are
    not thread-safe): a message from another thread is handed to that loop. A
    process without a running server has no socket to reach (a worker, a
    command): nothing is sent."""
    loop = _server_loop
    if loop is None or not loop.is_running():
        return
    try:
        running = asyncio.get_running_loop()
    except RuntimeError:
        running = None
    if running is loop:
        loop.create_task(send_all())
    else:
        asyncio.run_coroutine_threadsafe(send_all(), loop)


# --- Fan-out to this process's sockets ------------------------------------------------


class LocalFanout:
    """This process's subscriptions to channel-layer groups, on one event loop.

    However many sockets of the process watch a group, the process joins it once,
    with one channel of its own, and one reader takes every message sent to its
    groups and hands it to each local member in turn. A message therefore crosses
    the layer once per process rather than once per socket, is encoded once by
    its sender, and the sockets need no channel of their own: with the in-memory
    layer every operation scans all channels, and with Redis every socket would
    otherwise cost a group membership and a receive.

    Members are objects with ``async def live_frame(message)``; messages sent
    through ``group_send`` carry the group's name under ``"group"``.

    Cancellation: under Python 3.11, ``asyncio.wait_for`` returns the result
    instead of raising when a cancellation arrives just as the awaited work
    completes (CPython issue 86296, fixed in 3.12), and redis-py writes every
    command through it when the connection has a socket timeout, as ours does.
    A cancelled task can thus carry on as if nothing had happened: the reader
    went on to its next blocking read, and the next, so its event loop could
    never close (a server shutting down, or ``async_to_sync`` returning, waits
    for the cancelled tasks to end). So nothing here relies on one cancellation
    getting through the layer's code.
    """

    # Sockets handed a frame between two turns of the event loop.
    BATCH = 50
    # Re-join every group this often: layers forget a membership after a day.
    REFRESH_SECONDS = 3600.0
    # A reader that stopped for any other reason than its cancellation starts
    # again after this long.
    RESTART_SECONDS = 1.0

    def __init__(self, layer):
        self.layer = layer
        self.channel: str | None = None
        self.members: dict[str, set] = {}
        self.subscribed: set[str] = set()
        self.refresh_seconds = self.REFRESH_SECONDS
        if isinstance(layer, InMemoryChannelLayer):
            # The in-memory layer drops a channel from *all* its groups when a
            # message waits on it longer than its expiry (a reader held up):
            # re-joining is cheap there, so it is done well within that time.
            self.refresh_seconds = min(self.refresh_seconds, layer.expiry / 2)
        self._lock = asyncio.Lock()
        self._reader: asyncio.Task | None = None
        self._refresher: asyncio.Task | None = None
        # Membership changes under way (asyncio keeps only weak references).
        self._changes: set[asyncio.Task] = set()

    async def join(self, group: str, member) -> None:
        """Add a member; once this returns, the group's messages reach it."""
        self.members.setdefault(group, set()).add(member)
        if group not in self.subscribed or self._lock.locked():
            await self._change(group)

    async def leave(self, group: str, member) -> None:
        members = self.members.get(group)
        if members is not None:
            members.discard(member)
            if not members:
                del self.members[group]
                await self._change(group)

    async def _change(self, group: str) -> None:
        """Bring the layer's membership in line with the members, in a task of
        its own: a caller cancelled half-way (a socket's connect or disconnect
        cut short) must not leave ``subscribed`` saying "joined" when the layer
        was told to discard, or the reverse; that group would be silent in this
        process until the next refresh."""
        change = asyncio.ensure_future(self._reconcile(group))
        self._changes.add(change)
        change.add_done_callback(self._changes.discard)
        await asyncio.shield(change)

    async def _reconcile(self, group: str) -> None:
        """Join or leave the layer's group until it matches the members (which
        may change while the layer is being asked)."""
        async with self._lock:
            if self.channel is None:
                self.channel = await self.layer.new_channel(prefix="fanout")
                self._start_reader()
                self._refresher = asyncio.create_task(
                    self._refresh(), name="live-fanout-refresh"
                )
            while (group in self.members) != (group in self.subscribed):
                if group in self.members:
                    await self.layer.group_add(group, self.channel)
                    self.subscribed.add(group)
                else:
                    await self.layer.group_discard(group, self.channel)
                    self.subscribed.discard(group)

    def _start_reader(self) -> None:
        self._reader = asyncio.create_task(self._read(), name="live-fanout-read")
        self._reader.add_done_callback(self._reader_stopped)

    def _reader_stopped(self, reader: asyncio.Task) -> None:
        if reader.cancelling():  # cancelled: its event loop is closing
            return
        # Anything else would silence every group of this process for good.
        error = None if reader.cancelled() else reader.exception()
        logger.error("The live reader stopped; starting it again", exc_info=error)
        asyncio.get_running_loop().call_later(self.RESTART_SECONDS, self._start_reader)

    async def _read(self) -> None:
        failures = 0
        while True:
            _raise_if_cancelling()
            # Each receive is a task of its own, awaited through asyncio.wait,
            # which always lets this task's cancellation through; the receive
            # is then cancelled until it has really stopped (see the class).
            receiving = asyncio.create_task(
                self.layer.receive(self.channel), name="live-fanout-receive"
            )
            try:
                await asyncio.wait({receiving})
            except asyncio.CancelledError:
                await _cancel_until_done(receiving)
                raise
            try:
                message = receiving.result()
            except Exception:  # the layer's store went away: try again, slower
                failures += 1
                logger.exception("Reading the live channel failed (%d)", failures)
                await asyncio.sleep(min(30.0, 0.5 * 2**failures))
                continue
            failures = 0
            await self.deliver(message)

    async def deliver(self, message: dict) -> int:
        """Hand a message to every local member of its group; how many took it."""
        delivered = 0
        for n, member in enumerate(tuple(self.members.get(message.get("group"), ()))):
            if n and not n % self.BATCH:
                # Let the server write out what it has so far: the first
                # sockets need not wait for the last ones to be handed theirs.
                await asyncio.sleep(0)
            try:
                await member.live_frame(message)
                delivered += 1
            except asyncio.CancelledError:
                # This reader's own cancellation ends it; a member's (a send
                # cancelled under it) is that member's failure, as below.
                if asyncio.current_task().cancelling():
                    raise
                logger.exception("A live frame could not be handed on")
            except Exception:  # one broken socket must not starve the others
                logger.exception("A live frame could not be handed on")
        return delivered

    async def _refresh(self) -> None:
        while True:
            await asyncio.sleep(self.refresh_seconds)
            async with self._lock:
                for group in tuple(self.subscribed):
                    try:
                        await self.layer.group_add(group, self.channel)
                    except Exception:
                        logger.exception("Re-joining %s failed", group)
            # A cancellation lost in the layer's calls would otherwise wait out
            # the next sleep.
            _raise_if_cancelling()


def _raise_if_cancelling() -> None:
    """Raise the current task's cancellation if one was asked for and lost on
    the way (see LocalFanout)."""
    if asyncio.current_task().cancelling():
        raise asyncio.CancelledError


async def _cancel_until_done(task: asyncio.Task) -> None:
    """Cancel ``task`` until it ends: one cancellation can be lost (see
    LocalFanout), after which the task waits on its next read, where the next
    one ends it."""
    while not task.done():
        task.cancel()
        await asyncio.wait({task}, timeout=0.5)


_fanouts: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def local_fanout() -> LocalFanout | None:
    """The fan-out of the running event loop (None without a channel layer)."""
    loop = asyncio.get_running_loop()
    fanout = _fanouts.get(loop)
    if fanout is None:
        layer = get_channel_layer()
        if layer is None:
            return None
        if not isinstance(layer, InMemoryChannelLayer):
            # A layer whose state lives in a server gets an instance of its own
            # for each event loop. channels_redis keeps its receiving state per
            # instance (a lock per channel, counts, buffers), bound to the loop
            # that first used it; another loop receiving on the same instance
            # fails ("bound to a different event loop") or is refused. A server
            # process has one loop, but tests and commands run many. Sending
            # through the shared instance still reaches this one's channel: the
            # groups and the messages are kept in the server. (The in-memory
            # layer is its own store: it must stay the one instance.)
            layer = channel_layers.make_backend(DEFAULT_CHANNEL_LAYER)
        fanout = _fanouts[loop] = LocalFanout(layer)
    return fanout
