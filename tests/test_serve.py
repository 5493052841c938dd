"""End to end: the README's run path in real processes on loopback.

Migrate, load the demo, start ``manage.py serve`` and talk HTTP to it. In the
embedded default the server's own thread works the task queue; in the scaled
profile (DATABASE_URL set) a separate ``db_worker`` process does, against a fresh
PostgreSQL database made for this test.
"""

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from urllib.parse import urlsplit, urlunsplit

import pytest
from django.conf import settings

pytestmark = pytest.mark.slow


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def profile_env(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("DJANGO_")}
    env["DJANGO_SETTINGS_MODULE"] = "config.settings.dev"
    env["KNUTPUNKT_VAR_DIR"] = str(tmp_path / "var")
    database_url = os.environ.get("DATABASE_URL")
    if not database_url:
        yield env
        return
    import psycopg

    name = f"knutpunkt_e2e_{uuid.uuid4().hex[:8]}"
    parts = urlsplit(database_url)
    admin_url = urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    env["DATABASE_URL"] = urlunsplit(parts._replace(path=f"/{name}"))
    env["KNUTPUNKT_CHANNEL_PREFIX"] = name
    yield env
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _manage(env, *args, timeout=300):
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=True,
    )


def _get(port, path, host="localhost"):
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}{path}", headers={"Host": host}
    )
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
        return response.status, response.read().decode()


def _wait_for(predicate, timeout=30.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if predicate():
                return True
        except OSError:
            pass
        time.sleep(0.2)
    return False


def test_served_site_answers_and_works_tasks(profile_env, tmp_path):
    env = profile_env
    scaled = "DATABASE_URL" in env
    _manage(env, "migrate", "--no-input")
    _manage(env, "load_demo")
    port = _free_port()
    processes = [
        subprocess.Popen(
            [sys.executable, "manage.py", "serve", "--port", str(port)],
            cwd=settings.BASE_DIR,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
    ]
    if scaled:
        processes.append(
            subprocess.Popen(
                [sys.executable, "manage.py", "db_worker", "--interval", "0.2"],
                cwd=settings.BASE_DIR,
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
        )
    try:
        assert _wait_for(lambda: _get(port, "/healthz")[0] == 200), (
            "server never came up"
        )
        status, body = _get(port, "/healthz")
        assert json.loads(body)["database"] == ("postgresql" if scaled else "sqlite")
        status, body = _get(port, "/", host=f"malmo.localhost:{port}")
        assert status == 200 and "<h1>Malmö</h1>" in body
        status, body = _get(port, "/api/v1/locate?lat=55.6059&lon=13.0007")
        assert json.loads(body)["municipality"]["code"] == "1280"

        marker = tmp_path / "marker.txt"
        _manage(
            env,
            "shell",
            "-c",
            "from tests.tasks import write_marker; "
            f"write_marker.enqueue({str(marker)!r}, 'worked')",
        )
        assert _wait_for(marker.exists), "no worker ran the enqueued task"
        assert marker.read_text() == "worked"
    finally:
        for process in processes:
            process.send_signal(signal.SIGINT)
        for process in processes:
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
    output = processes[0].stdout.read()
    if scaled:
        assert "Task worker: separate processes" in output
    else:
        assert "Task worker: inside this process" in output
        assert "malmo-redaktor" in output  # demo accounts printed with passwords
