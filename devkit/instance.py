"""A whole Knutpunkt in real processes, for end-to-end tests and benchmarks: a
throwaway database (a new SQLite file, or a new PostgreSQL database dropped
afterwards), ``migrate``, ``load_demo`` and ``serve`` on a free loopback port."""

from __future__ import annotations

import atexit
import os
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import uuid
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

REPO = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(predicate, timeout: float = 30.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if predicate():
                return True
        except OSError:
            pass
        time.sleep(0.2)
    return False


def http_get(port: int, path: str, host: str = "localhost") -> tuple[int, str]:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}{path}", headers={"Host": host}
    )
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
        return response.status, response.read().decode()


@contextmanager
def profile_env(var_dir: Path, **extra: str):
    """Environment for a fresh instance of the profile this suite runs on.

    Embedded: a new SQLite file under ``var_dir``. Scaled (DATABASE_URL set): a new
    PostgreSQL database, dropped afterwards, and a channel prefix of its own.
    """
    env = {k: v for k, v in os.environ.items() if not k.startswith("DJANGO_")}
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings.dev", KNUTPUNKT_VAR_DIR=str(var_dir)
    )
    env.update(extra)
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
    env["KNUTPUNKT_CACHE_PREFIX"] = name  # rate-limit counts of its own
    try:
        yield env
    finally:
        with psycopg.connect(admin_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def manage(env: dict, *args: str, timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=True,
    )


def start(env: dict, *args: str, output=subprocess.PIPE) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "manage.py", *args],
        cwd=REPO,
        env=env,
        stdout=output,
        stderr=subprocess.STDOUT,
        text=True,
    )


def stop(processes: list[subprocess.Popen]) -> None:
    for process in processes:
        process.send_signal(signal.SIGINT)
    for process in processes:
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


# One migrated instance with the demo per test session and profile, copied for
# each test that needs one: a SQLite file, or a PostgreSQL template database.
_templates: dict[str, object] = {}
DB_FILES = ("knutpunkt.sqlite3", "knutpunkt.sqlite3-wal", "demo-accounts.json")


def instance_setup(env: dict, port: int) -> None:
    """Give the fresh instance of ``env`` the migrated schema and the demo, with
    its sites on ``port``: made once per session by ``migrate`` and ``load_demo``,
    then copied."""
    var = Path(env["KNUTPUNKT_VAR_DIR"])
    var.mkdir(parents=True, exist_ok=True)
    if "DATABASE_URL" in env:
        _postgres_from_template(env)
    else:
        template = _template_dir(env)
        for name in DB_FILES:
            if (template / name).exists():
                shutil.copy2(template / name, var / name)
        with sqlite3.connect(var / "knutpunkt.sqlite3") as db:
            db.execute("UPDATE wagtailcore_site SET port = ?", (port,))
        return
    shutil.copy2(_templates["accounts"], var / "demo-accounts.json")
    import psycopg

    with psycopg.connect(env["DATABASE_URL"], autocommit=True) as db:
        db.execute("UPDATE wagtailcore_site SET port = %s", (port,))


def _template_dir(env: dict) -> Path:
    if "sqlite" not in _templates:
        template = Path(tempfile.mkdtemp(prefix="knutpunkt-template-"))
        atexit.register(shutil.rmtree, template, True)
        made = {**env, "KNUTPUNKT_VAR_DIR": str(template)}
        manage(made, "migrate", "--no-input")
        manage(made, "load_demo", "--port", "80")
        _templates["sqlite"] = template
    return _templates["sqlite"]


def _postgres_from_template(env: dict) -> None:
    import psycopg

    parts = urlsplit(env["DATABASE_URL"])
    admin_url = urlunsplit(parts._replace(path="/postgres"))
    if "postgres" not in _templates:
        name = f"knutpunkt_template_{uuid.uuid4().hex[:8]}"
        with psycopg.connect(admin_url, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        atexit.register(_drop_database, admin_url, name)
        var = Path(tempfile.mkdtemp(prefix="knutpunkt-template-"))
        atexit.register(shutil.rmtree, var, True)
        made = {
            **env,
            "KNUTPUNKT_VAR_DIR": str(var),
            "DATABASE_URL": urlunsplit(parts._replace(path=f"/{name}")),
        }
        manage(made, "migrate", "--no-input")
        manage(made, "load_demo", "--port", "80")
        _templates["postgres"] = name
        _templates["accounts"] = var / "demo-accounts.json"
    fresh = parts.path.lstrip("/")
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{fresh}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{fresh}" TEMPLATE "{_templates["postgres"]}"')


def _drop_database(admin_url: str, name: str) -> None:
    import psycopg

    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextmanager
def running_site(env: dict, port: int):
    """An instance with the demo for ``port``, served; in the scaled profile a
    separate worker process runs beside the server."""
    instance_setup(env, port)
    processes = [start(env, "serve", "--port", str(port))]
    if "DATABASE_URL" in env:
        processes.append(
            start(env, "worker", "--interval", "0.2", output=subprocess.DEVNULL)
        )
    try:
        if not wait_for(lambda: http_get(port, "/healthz")[0] == 200):
            raise RuntimeError("the server never came up")
        yield processes
    finally:
        stop(processes)


def shell(env: dict, code: str) -> list[str]:
    """Run ``code`` in ``manage.py shell``; the words of the last line it printed
    (the shell may print lines of its own first)."""
    return manage(env, "shell", "-c", code).stdout.strip().splitlines()[-1].split()
