"""Live status across real processes: a case system's signal reaches a watcher's
websocket whichever server process holds the socket.

Embedded default: one ``serve`` process with its in-memory channel layer takes
both the socket and the signal. Scaled profile (DATABASE_URL and REDIS_URL): two
``serve`` processes and a ``worker``; the watcher is on one server, the signal
arrives at the other, and only the Redis channel layer joins them.
"""

from __future__ import annotations

import asyncio
import json
import os
import time
from contextlib import ExitStack, contextmanager

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

from devkit.instance import (
    free_port,
    http_get,
    instance_setup,
    profile_env,
    shell,
    start,
    stop,
    wait_for,
)
from devkit.webhooks import make_secret
from tests.support.instance import signal_post, webhook_reports

# Most of the time goes to setting up the instance (minutes on a busy machine);
# the servers' start, the socket and the signal take seconds, each bounded.
pytestmark = [pytest.mark.slow, pytest.mark.timeout(360)]

SECRET_ENV = "KNUTPUNKT_CONNECTION_SECRET_LIVE"
NOTE = "Vi har beställt en ny lampa, den monteras på tisdag."
HIDE = (
    "from reports.models import Report; "
    "print(Report.objects.filter(pk={pk}).update(is_hidden=True))"
)
FORBIDDEN = 4403  # reports.consumers.CLOSE_FORBIDDEN


@contextmanager
def servers(env: dict, tmp_path, port_a: int, port_b: int):
    """``serve`` on port_a (and, if different, on port_b) plus, in the scaled
    profile, a ``worker``; their output goes to log files under tmp_path, shown
    if the test fails."""
    with ExitStack() as stack:
        processes, logs = [], []

        def launch(name: str, *args: str):
            path = tmp_path / f"{name}.log"
            logs.append(path)
            processes.append(
                start(env, *args, output=stack.enter_context(path.open("w")))
            )

        launch("serve-a", "serve", "--port", str(port_a))
        if port_b != port_a:
            launch("serve-b", "serve", "--port", str(port_b))
        if "DATABASE_URL" in env:
            launch("worker", "worker", "--interval", "0.2")
        try:
            for port in {port_a, port_b}:
                assert wait_for(lambda p=port: http_get(p, "/healthz")[0] == 200), (
                    f"the server on {port} never came up"
                )
            assert all(p.poll() is None for p in processes), "a process exited"
            yield
        except BaseException:
            for path in logs:
                print(f"--- {path.name}\n{path.read_text()[-5000:]}")
            raise
        finally:
            stop(processes)


def ws_connect(port: int, report_id: int):
    """A websocket to one server, as a browser on http://localhost:<port> opens it."""
    return connect(
        f"ws://localhost:{port}/ws/reports/{report_id}/",
        host="127.0.0.1",
        port=port,
        origin=f"http://localhost:{port}",
        proxy=None,
        open_timeout=10,
    )


async def refusal(port: int, report_id: int) -> str:
    """How a server turns away a socket: a rejected handshake or a close code."""
    try:
        async with ws_connect(port, report_id) as socket:
            frame = await asyncio.wait_for(socket.recv(), 10)
            return f"accepted, got {frame[:100]}"
    except InvalidStatus as exc:
        return f"handshake {exc.response.status_code}"
    except ConnectionClosed as exc:
        return f"closed {exc.rcvd.code if exc.rcvd else None}"


async def scenario(port_a, port_b, connection_id, report_id, hidden_id, secret):
    async with ws_connect(port_a, report_id) as socket:
        started = time.monotonic()
        status, answer = await asyncio.to_thread(
            signal_post,
            port_b,
            connection_id,
            {"report_id": report_id, "status": "in_progress", "note": NOTE},
            secret,
        )
        assert status == 202, answer
        frame = json.loads(await asyncio.wait_for(socket.recv(), 10))
        latency = time.monotonic() - started
        # One frame per event: nothing else follows.
        with pytest.raises(TimeoutError):
            extra = await asyncio.wait_for(socket.recv(), 1)
            pytest.fail(f"a second frame arrived: {extra[:200]}")
    return answer, frame, latency, await refusal(port_b, hidden_id)


def test_a_signal_reaches_a_watcher_on_another_server_process(tmp_path):
    scaled = bool(os.environ.get("DATABASE_URL"))
    if scaled and not os.environ.get("REDIS_URL"):
        message = "the scaled profile needs REDIS_URL to join server processes"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    secret = make_secret()
    port_a = port_b = free_port()
    while scaled and port_b == port_a:
        port_b = free_port()
    with profile_env(tmp_path / "var", **{SECRET_ENV: secret}) as env:
        instance_setup(env, port_a)
        connection_id, (report_id, hidden_id) = webhook_reports(env, SECRET_ENV, 2)
        assert shell(env, HIDE.format(pk=hidden_id)) == ["1"]
        with servers(env, tmp_path, port_a, port_b):
            answer, frame, latency, refused = asyncio.run(
                scenario(port_a, port_b, connection_id, report_id, hidden_id, secret)
            )
    print(
        f"signal to frame: {latency * 1000:.0f} ms ({'scaled' if scaled else 'embedded'})"
    )
    assert (frame["type"], frame["id"], frame["report"]) == (
        "event",
        answer["event_id"],
        report_id,
    )
    assert (frame["kind"], frame["status"], frame["changes_status"]) == (
        "status",
        "in_progress",
        True,
    )
    assert frame["status_display"]["sv"] == "Pågår"
    assert NOTE in frame["html"]["sv"] and NOTE in frame["html"]["en"]
    assert refused in (f"closed {FORBIDDEN}", "handshake 403"), refused
