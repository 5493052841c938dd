"""End to end: the README's run path in real processes on loopback.

In the embedded default the server's own thread works the task queue; in the
scaled profile (DATABASE_URL set) a separate ``worker`` process does, against a
fresh PostgreSQL database made for this test.
"""

import json

import pytest

from devkit.instance import (
    free_port,
    http_get,
    manage,
    profile_env,
    running_site,
    shell,
    wait_for,
)

pytestmark = [pytest.mark.slow, pytest.mark.timeout(360)]

# The demo case system's cases move on within seconds, and are polled each second.
DEMO_CASE_SYSTEM_SOON = {
    "KNUTPUNKT_DEMO_IN_PROGRESS_AFTER_SECONDS": "1",
    "KNUTPUNKT_DEMO_FIXED_AFTER_SECONDS": "2",
    "KNUTPUNKT_DELIVERY_POLL_UPDATES_SECONDS": "1",
}
STREET_REPORT = """
from municipalities.models import Category
from tests.support.casehub import confirmed_report
report = confirmed_report(category=Category.objects.get(slug="vagar-ovriga"))
print(report.pk)
"""


def _status(env, report_id) -> str:
    return shell(
        env,
        "from reports.models import Report; "
        f"print(Report.objects.get(pk={report_id}).status)",
    )[0]


def test_served_site_answers_and_works_tasks(tmp_path):
    port = free_port()
    with (
        profile_env(tmp_path / "var", **DEMO_CASE_SYSTEM_SOON) as env,
        running_site(env, port) as processes,
    ):
        scaled = "DATABASE_URL" in env
        status, body = http_get(port, "/healthz")
        assert json.loads(body)["database"] == ("postgresql" if scaled else "sqlite")
        status, body = http_get(port, "/", host=f"malmo.localhost:{port}")
        assert status == 200 and "<h1>Malmö</h1>" in body
        status, body = http_get(port, "/api/v1/locate?lat=55.6059&lon=13.0007")
        assert json.loads(body)["municipality"]["code"] == "1280"

        marker = tmp_path / "marker.txt"
        manage(
            env,
            "shell",
            "-c",
            "from tests.tasks import write_marker; "
            f"write_marker.enqueue({str(marker)!r}, 'worked')",
        )
        assert wait_for(marker.exists), "no worker ran the enqueued task"
        assert marker.read_text() == "worked"

        # A report for Malmö's street department goes to the demo case system,
        # which moves it on through the intake (its updates are polled).
        (report_id,) = shell(env, STREET_REPORT)
        assert wait_for(lambda: _status(env, report_id) == "fixed", timeout=60), (
            _status(env, report_id)
        )
    output = processes[0].stdout.read()
    if scaled:
        assert "Task worker: separate processes" in output
    else:
        assert "Task worker: inside this process" in output
        assert "malmo-redaktor" in output  # demo accounts printed with passwords
    assert (
        "Demo case system (Open311, Malmö's street department) at http://127.0.0.1:"
        in output
    )
