"""``serve`` logs what holds up every socket of the process: a late event loop
and a long garbage collection."""

from __future__ import annotations

import asyncio
import gc
import logging
import time
import weakref

from infra.server import collector_watch, collector_young_passes, loop_watch


def test_a_held_up_event_loop_is_logged(caplog):
    async def scenario():
        watch = asyncio.create_task(loop_watch(period=0.02, threshold=0.1))
        await asyncio.sleep(0.05)
        time.sleep(0.25)  # a callback that blocks the loop
        await asyncio.sleep(0.05)
        watch.cancel()

    with caplog.at_level(logging.WARNING, logger="knutpunkt.serve"):
        asyncio.run(scenario())
    held = [
        int(r.getMessage().split("for ")[1].split(" ms")[0])
        for r in caplog.records
        if "held up" in r.getMessage()
    ]
    assert held and max(held) >= 150  # it says how long the loop was blocked


def test_a_long_garbage_collection_is_logged_with_its_generation(caplog):
    callback = collector_watch(threshold=0.0)  # every pass counts as long here
    try:
        with caplog.at_level(logging.WARNING, logger="knutpunkt.serve"):
            gc.collect(1)
    finally:
        gc.callbacks.remove(callback)
    messages = [r.getMessage() for r in caplog.records]
    assert any(m.startswith("Garbage collection of generation 1 ") for m in messages)


def test_young_passes_run_on_the_loop_without_the_collectors_own_trigger():
    class Node:
        pass

    async def scenario():
        passes = asyncio.create_task(collector_young_passes(seconds=0.01))
        node = Node()
        node.me = node  # a cycle: only the collector frees it
        gone = weakref.ref(node)
        del node
        for _ in range(100):
            if gone() is None:
                break
            await asyncio.sleep(0.01)
        passes.cancel()
        return gone() is None

    was_enabled = gc.isenabled()
    gc.disable()  # no automatic pass: only ours can free the cycle
    try:
        assert asyncio.run(scenario())
    finally:
        if was_enabled:
            gc.enable()
