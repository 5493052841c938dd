"""The process's fan-out (infra.live.LocalFanout) over the real channel layer of
the profile under test: the in-memory layer, or Redis."""

import asyncio
import concurrent.futures
import contextlib
import os
import threading
import uuid

import pytest
from asgiref.sync import async_to_sync, sync_to_async
from channels.layers import get_channel_layer

from infra.live import group_send, local_fanout, remember_server_loop

# Every test here waits on the channel layer.
pytestmark = pytest.mark.timeout(30)


class Member:
    """Stands for a socket: keeps what it is handed."""

    def __init__(self, fail=False):
        self.got, self.fail = [], fail
        self.arrived = asyncio.Event()

    async def live_frame(self, message):
        if self.fail:
            raise RuntimeError("socket gone")
        self.got.append(message["text"])
        self.arrived.set()


async def layer_members(group: str) -> int:
    """How many channels the layer itself holds in the group."""
    layer = get_channel_layer()
    if os.environ.get("REDIS_URL"):
        from redis.asyncio import Redis

        redis = Redis.from_url(os.environ["REDIS_URL"])
        try:
            return await redis.zcard(layer._group_key(group))
        finally:
            await redis.aclose()
    return len(layer.groups.get(group, {}))


async def send_from_a_thread(group: str, text: str) -> None:
    """As a request or delivery thread sends: through infra.live.group_send."""
    remember_server_loop()
    await sync_to_async(group_send, thread_sensitive=False)(
        group, {"type": "report.event", "text": text, "public": True}
    )


async def until(predicate, seconds=5.0) -> bool:
    deadline = asyncio.get_running_loop().time() + seconds
    while not predicate():
        if asyncio.get_running_loop().time() > deadline:
            return False
        await asyncio.sleep(0.01)
    return True


async def later(awaitable, turns: int):
    """``awaitable`` after ``turns`` turns of the event loop."""
    for _ in range(turns):
        await asyncio.sleep(0)
    return await awaitable


def task_named(name: str) -> asyncio.Task | None:
    return next((t for t in asyncio.all_tasks() if t.get_name() == name), None)


def live_log(caplog) -> list[str]:
    """What the fan-out logged (errors only: it logs nothing else)."""
    return [r.getMessage() for r in caplog.records if r.name == "knutpunkt.live"]


def test_a_process_joins_a_group_once_and_hands_each_message_to_every_member():
    group = f"test-{uuid.uuid4().hex}"

    async def scenario():
        fanout = local_fanout()
        members = [Member() for _ in range(3)]
        for member in members:
            await fanout.join(group, member)
        in_layer = await layer_members(group)
        await send_from_a_thread(group, "first")
        arrived = await until(lambda: all(m.got for m in members))
        await asyncio.sleep(0.2)  # nothing more comes
        for member in members:
            await fanout.leave(group, member)
        return in_layer, arrived, [m.got for m in members], await layer_members(group)

    in_layer, arrived, got, left = async_to_sync(scenario)()
    assert in_layer == 1
    assert arrived
    assert got == [["first"]] * 3
    assert left == 0


def test_the_last_member_leaving_while_another_joins_keeps_the_group():
    group = f"test-{uuid.uuid4().hex}"

    async def scenario():
        fanout = local_fanout()
        leaving, joining = Member(), Member()
        await fanout.join(group, leaving)
        await asyncio.gather(fanout.leave(group, leaving), fanout.join(group, joining))
        in_layer = await layer_members(group)
        await send_from_a_thread(group, "after")
        arrived = await until(lambda: joining.got)
        await fanout.leave(group, joining)
        return in_layer, arrived, leaving.got, joining.got

    in_layer, arrived, left_got, joined_got = async_to_sync(scenario)()
    assert in_layer == 1
    assert arrived
    assert (left_got, joined_got) == ([], ["after"])


def test_a_member_that_fails_does_not_starve_the_others():
    group = f"test-{uuid.uuid4().hex}"

    async def scenario():
        fanout = local_fanout()
        members = [Member(), Member(fail=True), Member()]
        for member in members:
            await fanout.join(group, member)
        await send_from_a_thread(group, "one")
        await send_from_a_thread(group, "two")
        arrived = await until(lambda: len(members[2].got) == 2)
        for member in members:
            await fanout.leave(group, member)
        return arrived, [m.got for m in members]

    arrived, got = async_to_sync(scenario)()
    assert arrived
    assert got == [["one", "two"], [], ["one", "two"]]


def test_messages_reach_only_their_own_groups_members():
    mine, other = f"test-{uuid.uuid4().hex}", f"test-{uuid.uuid4().hex}"

    async def scenario():
        fanout = local_fanout()
        a, b = Member(), Member()
        await fanout.join(mine, a)
        await fanout.join(other, b)
        await send_from_a_thread(mine, "for a")
        arrived = await until(lambda: a.got)
        await asyncio.sleep(0.2)
        await fanout.leave(mine, a)
        await fanout.leave(other, b)
        return arrived, a.got, b.got

    assert async_to_sync(scenario)() == (True, ["for a"], [])


def test_a_leave_cut_short_does_not_leave_the_group_silent():
    """A socket's disconnect is cancelled while the process leaves the layer's
    group; a socket that joins afterwards still hears the group."""

    async def scenario(turns):
        group = f"test-{uuid.uuid4().hex}"
        fanout = local_fanout()
        first, second = Member(), Member()
        await fanout.join(group, first)
        leaving = asyncio.create_task(fanout.leave(group, first))
        await later(asyncio.sleep(0), turns)
        leaving.cancel()
        await asyncio.wait({leaving})
        await fanout.join(group, second)
        await send_from_a_thread(group, "after")
        arrived = await until(lambda: second.got, seconds=2)
        await fanout.leave(group, second)
        return arrived

    async def every_point():
        return [await scenario(turns) for turns in range(12)]

    assert async_to_sync(every_point)() == [True] * 12


class Cancelled(Member):
    """A socket whose send was cancelled under it."""

    async def live_frame(self, message):
        raise asyncio.CancelledError


def test_a_member_cancelled_under_the_reader_does_not_stop_it():
    group = f"test-{uuid.uuid4().hex}"

    async def scenario():
        fanout = local_fanout()
        members = [Cancelled(), Member()]
        for member in members:
            await fanout.join(group, member)
        await send_from_a_thread(group, "one")
        await send_from_a_thread(group, "two")
        arrived = await until(lambda: len(members[1].got) == 2)
        for member in members:
            await fanout.leave(group, member)
        return arrived, members[1].got

    assert async_to_sync(scenario)() == (True, ["one", "two"])


def test_a_reader_that_stops_is_started_again(caplog):
    """However the reader ends, other than by its own cancellation (here its
    receive is cancelled under it), the process goes on hearing its groups."""
    group = f"test-{uuid.uuid4().hex}"

    async def scenario():
        fanout = local_fanout()
        member = Member()
        await fanout.join(group, member)
        await until(lambda: task_named("live-fanout-receive"))
        receive = task_named("live-fanout-receive")
        while not receive.done():  # one cancellation can be lost (see infra.live)
            receive.cancel()
            await asyncio.wait({receive}, timeout=0.1)
        await send_from_a_thread(group, "heard")
        arrived = await until(lambda: member.got)
        await fanout.leave(group, member)
        return arrived, member.got

    assert async_to_sync(scenario)() == (True, ["heard"])
    assert "The live reader stopped; starting it again" in live_log(caplog)


def test_a_membership_the_layer_forgot_is_joined_again():
    """Layers forget memberships (Redis after a day; the in-memory layer drops a
    channel from all its groups when a message waits on it too long): the
    process joins its groups again from time to time."""
    group = f"test-{uuid.uuid4().hex}"

    async def scenario():
        fanout = local_fanout()
        fanout.refresh_seconds = 0.2
        member = Member()
        await fanout.join(group, member)
        await get_channel_layer().group_discard(group, fanout.channel)
        forgotten = await layer_members(group)
        await asyncio.sleep(0.5)  # a refresh or two
        rejoined = await layer_members(group)
        await send_from_a_thread(group, "heard")
        arrived = await until(lambda: member.got)
        await fanout.leave(group, member)
        return forgotten, rejoined, arrived

    assert async_to_sync(scenario)() == (0, 1, True)


# --- The leave-while-join race, many times ------------------------------------------
#
# The last member of a group leaves while another joins: the process must stay in
# the group and its reader must go on handing messages on. And whatever the reader
# is doing, its event loop must be able to close: a server process shutting down,
# or async_to_sync returning, cancels the loop's tasks and waits for them to end.

RACES = 200


async def leave_while_another_joins(turns: int, stay: bool = False):
    """One race on this loop's fan-out: the racing calls meet at a different point
    of each other's layer calls, and the scenario ends at a different point of
    the reader's next receive, as ``turns`` varies. With ``stay`` it ends still
    in the group, as a server's sockets are when it shuts down.

    Returns how many channels the layer holds in the group after the race, what
    each member heard, and the group and channel, for cleaning up."""
    group = f"test-{uuid.uuid4().hex}"
    fanout = local_fanout()
    leaving, joining = Member(), Member()
    await fanout.join(group, leaving)
    racing = [fanout.leave(group, leaving), later(fanout.join(group, joining), turns)]
    await asyncio.gather(*(racing if turns % 2 else racing[::-1]))
    in_layer = await layer_members(group)
    await send_from_a_thread(group, "after")
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(joining.arrived.wait(), 5)
    # Woken by the delivery itself: the reader is taking up its next receive.
    await later(asyncio.sleep(0), turns)
    if not stay:
        await fanout.leave(group, joining)
    return (in_layer, leaving.got, joining.got), (group, fanout.channel)


def run_on_a_fresh_loop(scenario, seconds: float):
    """Run ``scenario()`` as async_to_sync does: on a new event loop in a thread of
    its own, closed (its remaining tasks cancelled and awaited) before this
    returns. Fails if that takes longer than ``seconds``."""
    outcome = concurrent.futures.Future()
    loops = []

    async def main():
        loops.append(asyncio.get_running_loop())
        return await scenario()

    def run():
        try:
            outcome.set_result(asyncio.run(main()))
        except BaseException as error:
            outcome.set_exception(error)

    # A daemon thread: should the loop never close, the process can still end.
    threading.Thread(target=run, name="fresh-loop", daemon=True).start()
    try:
        return outcome.result(timeout=seconds)
    except concurrent.futures.TimeoutError:
        left = sorted(task.get_name() for task in asyncio.all_tasks(loops[0]))
        pytest.fail(f"the event loop was not closed after {seconds} s: {left} went on")


def forget(memberships) -> None:
    """Take channels of closed loops out of their groups."""

    async def discard_all():
        layer = get_channel_layer()
        for group, channel in memberships:
            await layer.group_discard(group, channel)

    async_to_sync(discard_all)()


@pytest.mark.timeout(120)
def test_the_leave_while_join_race_keeps_the_group_every_time(caplog):
    async def scenario():
        return [await leave_while_another_joins(n % 8) for n in range(RACES)]

    for n, (heard, _) in enumerate(async_to_sync(scenario)()):
        assert heard == (1, [], ["after"]), f"race {n}"
    assert live_log(caplog) == []


@pytest.mark.timeout(180)
def test_the_leave_while_join_race_leaves_every_event_loop_free_to_close(caplog):
    """Each race on a new event loop, as the test suite runs its scenarios, and
    each loop closed while the process is still in the group."""
    memberships = []
    try:
        for n in range(RACES):
            heard, membership = run_on_a_fresh_loop(
                lambda n=n: leave_while_another_joins(n % 16, stay=True), seconds=10
            )
            memberships.append(membership)
            assert heard == (1, [], ["after"]), f"race {n}"
    finally:
        forget(memberships)
    assert live_log(caplog) == []
