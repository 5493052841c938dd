"""The outbox works in rounds: a batch is claimed, loaded and recorded in a few
statements; leases are short and renewed while a living dispatcher sends; the
circuit's cool-down is not lengthened by requests already under way when it
opened; and the timings come from the environment."""

import json
import os
import subprocess
import sys
from datetime import timedelta

import pytest
from django.db import connection as db
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from casehub.choices import DeliveryState
from casehub.models import Delivery, DeliveryAttempt
from casehub.outbox import (
    deliveries_claim,
    deliveries_load,
    job_send,
    leases_renew,
    outcomes_record,
)
from devkit.instance import REPO
from municipalities.choices import ConnectionKind
from municipalities.models import Category, Connection, ConnectionService
from reports.choices import EventKind
from reports.models import ReportEvent
from tests.support.casehub import confirmed_report, connect, deliver_due

pytestmark = pytest.mark.django_db


def two_connections(server):
    """Malmö's street lights and graffiti, each through an Open311 connection
    of its own to the same loopback case system."""
    lamps = connect(ConnectionKind.OPEN311, endpoint=server.url)
    graffiti = Category.objects.get(slug="klotter")
    walls = connect(
        ConnectionKind.OPEN311, endpoint=server.url, category=graffiti, code="002"
    )
    ConnectionService.objects.filter(connection=walls).update(service_code="001")
    return lamps, walls, graffiti


def test_a_round_of_many_deliveries_costs_a_few_statements(open311):
    lamps, walls, graffiti = two_connections(open311)
    for connection in (lamps, walls):
        connection.max_in_flight = 10
        connection.save()
    for n in range(12):
        confirmed_report(title=f"Fel {n}", category=graffiti if n % 2 else None)
    with CaptureQueriesContext(db) as claiming:
        claims = deliveries_claim(limit=20)
    with CaptureQueriesContext(db) as loading:
        jobs = deliveries_load(claims)
    outcomes = [job_send(job) for job in jobs]
    with CaptureQueriesContext(db) as recording:
        states = outcomes_record(outcomes)
    assert states == [DeliveryState.DELIVERED] * 12
    assert len(open311.cases) == 12
    # However many deliveries: a look, the connections, what they hold, the
    # candidates per state, expired leases and one update (with BEGIN/COMMIT
    # where the backend shows them)...
    assert len(claiming.captured_queries) <= 9
    # ...one read of deliveries and reports, photos, connections with their
    # service codes, categories, kommuner (no site: filed on the national one)...
    assert len(loading.captured_queries) <= 7
    # ...and the leases, the connections' health, one update run for the
    # delivered, the attempts and the events.
    assert len(recording.captured_queries) <= 10
    assert DeliveryAttempt.objects.filter(succeeded=True).count() == 12
    assert ReportEvent.objects.filter(kind=EventKind.SENT).count() == 12


def test_a_renewed_lease_holds_and_an_abandoned_one_runs_out(open311, settings):
    settings.KNUTPUNKT_DELIVERY = {**settings.KNUTPUNKT_DELIVERY, "lease_seconds": 10}
    connect(ConnectionKind.OPEN311, endpoint=open311.url)
    confirmed_report()
    t0 = timezone.now()
    (claim,) = deliveries_claim(limit=5, now=t0)
    assert deliveries_claim(limit=5, now=t0 + timedelta(seconds=9)) == []
    # The dispatcher that holds it renews it while it sends...
    assert leases_renew(tokens=[claim.lease_token], now=t0 + timedelta(seconds=8)) == 1
    assert deliveries_claim(limit=5, now=t0 + timedelta(seconds=15)) == []
    # ...and when it stops (it died), the lease runs out: another takes it back.
    (again,) = deliveries_claim(limit=5, now=t0 + timedelta(seconds=19))
    assert again.delivery_id == claim.delivery_id
    assert again.lease_token != claim.lease_token


def test_requests_under_way_when_the_circuit_opened_do_not_lengthen_it(
    open311, settings
):
    settings.KNUTPUNKT_DELIVERY = {
        **settings.KNUTPUNKT_DELIVERY,
        "circuit_threshold": 2,
        "circuit_cooldown_seconds": 60,
    }
    connection = connect(ConnectionKind.OPEN311, endpoint=open311.url)
    connection.max_in_flight = 4
    connection.save()
    for n in range(4):
        confirmed_report(title=f"Fel {n}")
    open311.status = 500
    # Four requests under way at once; they fail one after the other.
    outcomes = [job_send(job) for job in deliveries_load(deliveries_claim(limit=4))]
    for outcome in outcomes:
        outcomes_record([outcome])
    connection.refresh_from_db()
    assert connection.consecutive_failures == 2
    opened = connection.circuit_opened_at
    assert connection.circuit_open_until - opened == timedelta(seconds=60)
    assert len(open311.requests) == 4
    # The probe after the pause fails: now the pause doubles.
    probe_time = connection.circuit_open_until + timedelta(seconds=1)
    assert deliver_due(now=probe_time) == [DeliveryState.FAILED]
    connection.refresh_from_db()
    assert connection.consecutive_failures == 3
    assert connection.circuit_open_until - connection.circuit_opened_at == timedelta(
        seconds=120
    )
    assert len(open311.requests) == 5  # one probe, not four


def test_a_dead_connection_does_not_hold_up_the_others_in_a_round(open311):
    lamps, walls, graffiti = two_connections(open311)
    Connection.objects.filter(pk=walls.pk).update(endpoint="http://127.0.0.1:9/x/")
    for n in range(6):
        confirmed_report(title=f"Fel {n}", category=graffiti if n % 2 else None)
    states = deliver_due()
    assert sorted(states) == sorted(
        [DeliveryState.DELIVERED] * 3 + [DeliveryState.FAILED] * 3
    )
    assert Delivery.objects.filter(connection=lamps, state="delivered").count() == 3


def test_delivery_timings_come_from_the_environment():
    names = {
        "KNUTPUNKT_DELIVERY_BACKOFF_BASE_SECONDS": ("backoff_base_seconds", 5.0),
        "KNUTPUNKT_DELIVERY_BACKOFF_CAP_SECONDS": ("backoff_cap_seconds", 600.0),
        "KNUTPUNKT_DELIVERY_CIRCUIT_COOLDOWN_SECONDS": (
            "circuit_cooldown_seconds",
            7.0,
        ),
        "KNUTPUNKT_DELIVERY_CIRCUIT_COOLDOWN_CAP_SECONDS": (
            "circuit_cooldown_cap_seconds",
            70.0,
        ),
        "KNUTPUNKT_DELIVERY_CIRCUIT_THRESHOLD": ("circuit_threshold", 3),
        "KNUTPUNKT_DELIVERY_LEASE_SECONDS": ("lease_seconds", 4.0),
        "KNUTPUNKT_DELIVERY_GIVE_UP_AFTER_SECONDS": ("give_up_after_seconds", 3600.0),
    }
    env = {k: v for k, v in os.environ.items() if not k.startswith("KNUTPUNKT_")}
    env.update({name: str(value) for name, (_key, value) in names.items()})
    printed = subprocess.run(
        [
            sys.executable,
            "-c",
            "import json; from config.settings import base; "
            "print(json.dumps(base.KNUTPUNKT_DELIVERY))",
        ],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    delivery = json.loads(printed)
    wanted = dict(names.values())
    assert {key: delivery[key] for key in wanted} == wanted
