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
    with _fresh_env(dict(os.environ), var_dir, extra) as env:
        yield env


@contextmanager
def profile_env_for(
    profile: str,
    var_dir: Path,
    *,
    database_url: str | None = None,
    redis_url: str | None = None,
    **extra: str,
):
    """``profile_env`` for a profile the caller chooses rather than the one the
    environment names, for a command that measures both in one run.

    ``embedded``: a new SQLite file under ``var_dir``, no Redis (DATABASE_URL and
    REDIS_URL are left out). ``scaled``: a new PostgreSQL database on the server
    of ``database_url`` (else of DATABASE_URL), dropped afterwards, and Redis at
    ``redis_url`` when one is given (else none: cache and channel layer in
    process).
    """
    base = {
        k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")
    }
    if profile == "scaled":
        server = database_url or os.environ.get("DATABASE_URL")
        if not server:
            raise ValueError("the scaled profile needs a PostgreSQL server's URL")
        base["DATABASE_URL"] = server
        if redis_url:
            base["REDIS_URL"] = redis_url
    elif profile != "embedded":
        raise ValueError(f"no such profile: {profile!r}")
    with _fresh_env(base, var_dir, extra) as env:
        yield env


@contextmanager
def _fresh_env(base: dict, var_dir: Path, extra: dict):
    env = {k: v for k, v in base.items() if not k.startswith("DJANGO_")}
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings.dev", KNUTPUNKT_VAR_DIR=str(var_dir)
    )
    env.update(extra)
    database_url = base.get("DATABASE_URL")
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
# A process started by a test or a benchmark shares its parent's templates when
# its environment names them (``shared_templates``): the folder of the SQLite
# files, or the PostgreSQL template database and the folder of its accounts file.
SQLITE_TEMPLATE_VAR = "DEVKIT_SQLITE_TEMPLATE"
POSTGRES_TEMPLATE_VAR = "DEVKIT_POSTGRES_TEMPLATE"
POSTGRES_TEMPLATE_DIR_VAR = "DEVKIT_POSTGRES_TEMPLATE_DIR"


def shared_templates(env: dict) -> dict[str, str]:
    """The template of ``env``'s profile, made now if this process has none yet,
    as environment variables: put them in a child process's environment and its
    ``instance_setup`` copies this template rather than migrating anew. The
    template stays this process's: it is removed when this process exits."""
    if "DATABASE_URL" in env:
        _postgres_template(env)
        return {
            POSTGRES_TEMPLATE_VAR: str(_templates["postgres"]),
            POSTGRES_TEMPLATE_DIR_VAR: str(Path(_templates["accounts"]).parent),
        }
    return {SQLITE_TEMPLATE_VAR: str(_template_dir(env))}


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
    if "sqlite" not in _templates and env.get(SQLITE_TEMPLATE_VAR):
        _templates["sqlite"] = Path(env[SQLITE_TEMPLATE_VAR])
    if "sqlite" not in _templates:
        template = Path(tempfile.mkdtemp(prefix="knutpunkt-template-"))
        atexit.register(shutil.rmtree, template, True)
        made = {**env, "KNUTPUNKT_VAR_DIR": str(template)}
        manage(made, "migrate", "--no-input")
        manage(made, "load_demo", "--port", "80", "--no-history")
        _templates["sqlite"] = template
    return _templates["sqlite"]


def _postgres_template(env: dict) -> None:
    """Make the PostgreSQL template database, or take the one env names."""
    if "postgres" not in _templates and env.get(POSTGRES_TEMPLATE_VAR):
        _templates["postgres"] = env[POSTGRES_TEMPLATE_VAR]
        folder = Path(env[POSTGRES_TEMPLATE_DIR_VAR])
        _templates["accounts"] = folder / "demo-accounts.json"
    if "postgres" in _templates:
        return
    import psycopg

    parts = urlsplit(env["DATABASE_URL"])
    admin_url = urlunsplit(parts._replace(path="/postgres"))
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
    manage(made, "load_demo", "--port", "80", "--no-history")
    _templates["postgres"] = name
    _templates["accounts"] = var / "demo-accounts.json"


def _postgres_from_template(env: dict) -> None:
    import psycopg

    parts = urlsplit(env["DATABASE_URL"])
    admin_url = urlunsplit(parts._replace(path="/postgres"))
    _postgres_template(env)
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
