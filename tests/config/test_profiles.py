import os
import subprocess
import sys
import uuid

import pytest
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.conf import settings
from django.core.cache import cache
from django.db import connection

from config.settings import base

REPO = settings.BASE_DIR


def _django(code: str, **env) -> subprocess.CompletedProcess:
    """Run Python with the project on the path and the given environment."""
    # The settings under test pick their own profile: nothing is inherited from
    # the profile this suite runs on.
    full_env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("DJANGO_") and k not in ("DATABASE_URL", "REDIS_URL")
    }
    full_env.update(env)
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=REPO,
        env=full_env,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.django_db
def test_the_suite_runs_on_the_profile_the_environment_names():
    if os.environ.get("DATABASE_URL"):
        assert connection.vendor == "postgresql"
    else:
        assert connection.vendor == "sqlite"
    layer = settings.CHANNEL_LAYERS["default"]["BACKEND"]
    if os.environ.get("REDIS_URL"):
        assert layer == "channels_redis.core.RedisChannelLayer"
        assert settings.CACHES["default"]["BACKEND"].endswith("RedisCache")
    else:
        assert layer == "channels.layers.InMemoryChannelLayer"


@pytest.mark.timeout(30)  # a lost message would leave receive() waiting
def test_channel_layer_delivers_a_group_message():
    layer = get_channel_layer()

    async def roundtrip():
        channel = await layer.new_channel()
        group = f"test-{uuid.uuid4().hex}"
        await layer.group_add(group, channel)
        await layer.group_send(group, {"type": "status.changed", "status": "closed"})
        message = await layer.receive(channel)
        await layer.group_discard(group, channel)
        return message

    assert async_to_sync(roundtrip)() == {"type": "status.changed", "status": "closed"}


def test_cache_stores_and_expires_values():
    key = f"test-{uuid.uuid4().hex}"
    cache.set(key, {"a": 1}, timeout=30)
    assert cache.get(key) == {"a": 1}
    cache.delete(key)
    assert cache.get(key) is None


def test_base_settings_run_with_no_environment_at_all():
    # Only the settings module is named; nothing else is inherited.
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            "import django; django.setup(); from django.conf import settings; "
            "print(settings.DATABASES['default']['ENGINE'], "
            "settings.TASKS['default']['BACKEND'])",
        ],
        cwd=REPO,
        env={"DJANGO_SETTINGS_MODULE": "config.settings.base"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [
        "infra.db",
        "django_tasks_db.DatabaseBackend",
    ]


@pytest.mark.parametrize(
    ("env", "missing"),
    [
        ({"DJANGO_ALLOWED_HOSTS": "knutpunkt.se"}, "DJANGO_SECRET_KEY"),
        ({"DJANGO_SECRET_KEY": "x" * 50}, "DJANGO_ALLOWED_HOSTS"),
        ({"DJANGO_SECRET_KEY": " ", "DJANGO_ALLOWED_HOSTS": "a"}, "DJANGO_SECRET_KEY"),
    ],
)
def test_production_refuses_to_start_without_secret_key_and_hosts(env, missing):
    result = _django(
        "import django; django.setup()",
        DJANGO_SETTINGS_MODULE="config.settings.production",
        PATH=os.environ["PATH"],
        **env,
    )
    assert result.returncode != 0
    assert f"{missing} must be set in the environment" in result.stderr


def test_production_starts_with_both_set():
    result = _django(
        "import django; django.setup(); from django.conf import settings; "
        "print(settings.DEBUG, settings.SESSION_COOKIE_SECURE, settings.ALLOWED_HOSTS)",
        DJANGO_SETTINGS_MODULE="config.settings.production",
        DJANGO_SECRET_KEY="k" * 50,
        DJANGO_ALLOWED_HOSTS="knutpunkt.se,.knutpunkt.se",
        PATH=os.environ["PATH"],
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "False True ['knutpunkt.se', '.knutpunkt.se']"


def test_embedded_sqlite_uses_wal_with_a_busy_timeout(tmp_path):
    result = _django(
        "import django; django.setup(); from django.db import connection\n"
        "with connection.cursor() as c:\n"
        "    c.execute('PRAGMA journal_mode'); print(c.fetchone()[0])\n"
        "    c.execute('PRAGMA busy_timeout'); print(c.fetchone()[0])\n",
        DJANGO_SETTINGS_MODULE="config.settings.dev",
        KNUTPUNKT_VAR_DIR=str(tmp_path),
        PATH=os.environ["PATH"],
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["wal", "20000"]


def test_without_database_url_the_worker_runs_inside_the_server():
    assert base.KNUTPUNKT_EMBEDDED_WORKER is (not os.environ.get("DATABASE_URL"))
