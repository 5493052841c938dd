"""Sending to channel-layer groups from anywhere: request threads, task and
delivery threads, or the server's own event loop.

With Redis (the scaled profile) any thread may send. The in-memory layer of the
embedded profile lives on the server's event loop; a message from another thread
is handed to that loop, since asyncio queues are not thread-safe.
"""

from __future__ import annotations

import asyncio
import logging

from asgiref.sync import async_to_sync
from channels.layers import InMemoryChannelLayer, get_channel_layer

logger = logging.getLogger("knutpunkt.live")

_server_loop: asyncio.AbstractEventLoop | None = None


def remember_server_loop() -> None:
    """Called on the server's event loop as it takes its first connection."""
    global _server_loop
    _server_loop = asyncio.get_running_loop()


def group_send(group: str, message: dict) -> None:
    layer = get_channel_layer()
    if layer is None:
        return
    loop = _server_loop
    if (
        isinstance(layer, InMemoryChannelLayer)
        and loop is not None
        and loop.is_running()
    ):
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is loop:
            loop.create_task(layer.group_send(group, message))
        else:
            asyncio.run_coroutine_threadsafe(layer.group_send(group, message), loop)
        return
    try:
        async_to_sync(layer.group_send)(group, message)
    except Exception:  # a broadcast must never undo or break the write it follows
        logger.exception("Sending to %s failed", group)
