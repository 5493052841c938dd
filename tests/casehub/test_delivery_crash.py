"""A delivery worker killed with SIGKILL in the middle of a delivery: after a
restart the case exists exactly once, in both run profiles."""

import os
import signal
import subprocess
import threading

import pytest

from devkit.instance import (
    free_port,
    instance_setup,
    manage,
    profile_env,
    start,
    stop,
    wait_for,
)
from devkit.servers import Open311Server

pytestmark = pytest.mark.slow

SETUP = """
from municipalities.choices import ConnectionKind
from tests.support.casehub import confirmed_report, connect
connect(ConnectionKind.OPEN311, endpoint={url!r}, timeout_seconds=2)
print(confirmed_report().pk)
"""
# One place in flight at a time, a slow case system's timeout, two reports.
ONE_AT_A_TIME = """
from municipalities.choices import ConnectionKind
from tests.support.casehub import confirmed_report, connect
connect(
    ConnectionKind.OPEN311, endpoint={url!r}, timeout_seconds=30, max_in_flight=1
)
print(confirmed_report().pk, confirmed_report(title="Den andra lampan").pk)
"""
STATES = """
from casehub.models import Delivery
print(*Delivery.objects.order_by("pk").values_list("state", flat=True))
"""
STATE = """
from casehub.models import Delivery
d = Delivery.objects.get()
print(d.state, d.external_id, d.attempts, d.key)
"""


def delivery_state(env) -> list[str]:
    return manage(env, "shell", "-c", STATE).stdout.strip().splitlines()[-1].split()


def test_worker_killed_mid_delivery_leaves_exactly_one_case(tmp_path):
    # A lease of 2 s: the second worker takes the delivery back soon after the
    # first one stops renewing it.
    with (
        Open311Server() as server,
        profile_env(tmp_path / "var", KNUTPUNKT_DELIVERY_LEASE_SECONDS="2") as env,
    ):
        instance_setup(env, free_port())
        manage(env, "shell", "-c", SETUP.format(url=server.url))
        server.hold = threading.Event()
        first = start(env, "worker", "--no-tasks", output=subprocess.DEVNULL)
        try:
            # The case system has opened the case; our answer never comes back.
            assert server.holding.wait(60), "the worker never sent the delivery"
            os.kill(first.pid, signal.SIGKILL)
            first.wait(timeout=10)
        finally:
            server.hold.set()
        assert len(server.cases) == 1
        assert delivery_state(env)[0] == "sending"

        server.hold = None
        second = start(env, "worker", "--no-tasks", output=subprocess.DEVNULL)
        try:
            assert server.wait_for_requests(2, timeout=60), "never retried"
            assert wait_for(lambda: delivery_state(env)[0] == "delivered", 60)
        finally:
            stop([second])
        state, external_id, attempts, key = delivery_state(env)
        assert len(server.cases) == 1
        assert [r["key"] for r in server.requests] == [key, key]
        assert (external_id, attempts) == (server.cases[0]["service_request_id"], "2")


def test_a_killed_workers_lease_does_not_hold_its_connection_for_long(tmp_path):
    """The killed worker held the connection's one place; its lease ran for
    twice the 30 s timeout and more before. Now it runs out within the lease
    (2 s here) that only a living dispatcher renews."""
    with (
        Open311Server() as server,
        profile_env(tmp_path / "var", KNUTPUNKT_DELIVERY_LEASE_SECONDS="2") as env,
    ):
        instance_setup(env, free_port())
        manage(env, "shell", "-c", ONE_AT_A_TIME.format(url=server.url))
        server.hold = threading.Event()
        first = start(env, "worker", "--no-tasks", output=subprocess.DEVNULL)
        try:
            assert server.holding.wait(60), "the worker never sent a delivery"
            os.kill(first.pid, signal.SIGKILL)
            first.wait(timeout=10)
        finally:
            server.hold.set()
        server.hold = None
        second = start(env, "worker", "--no-tasks", output=subprocess.DEVNULL)
        try:
            delivered = wait_for(
                lambda: (
                    manage(env, "shell", "-c", STATES).stdout.split()[-2:]
                    == ["delivered", "delivered"]
                ),
                timeout=25,
            )
        finally:
            stop([second])
        assert delivered, "the connection stayed held by the dead worker's lease"
        assert len(server.cases) == 2
