"""The process's fan-out (infra.live.LocalFanout) over the real channel layer of
the profile under test: the in-memory layer, or Redis."""

import asyncio
import os
import uuid

from asgiref.sync import async_to_sync, sync_to_async
from channels.layers import get_channel_layer

from infra.live import group_send, local_fanout, remember_server_loop


class Member:
    """Stands for a socket: keeps what it is handed."""

    def __init__(self, fail=False):
        self.got, self.fail = [], fail

    async def live_frame(self, message):
        if self.fail:
            raise RuntimeError("socket gone")
        self.got.append(message["text"])


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
