"""Test settings: the same profile switches as base, fast hashing, tasks inline.

Tests that exercise the real worker override TASKS themselves.
"""

import os
import tempfile
from pathlib import Path

from .base import *  # noqa: F403
from .base import DATABASE_URL

SECRET_KEY = "test-only-not-secret"  # noqa: S105
DEBUG = False
ALLOWED_HOSTS = ["*"]
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
VAR_DIR = Path(tempfile.mkdtemp(prefix="knutpunkt-test-var-"))
MEDIA_ROOT = VAR_DIR / "media"
KNUTPUNKT_MODERATED_ROOT = VAR_DIR / "moderated"
if not DATABASE_URL:
    # pytest-django creates its own in-memory test database; keep WAL options out.
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": os.path.join(tempfile.gettempdir(), "knutpunkt-test.sqlite3"),
            "OPTIONS": {"timeout": 20, "transaction_mode": "IMMEDIATE"},
            "TEST": {"NAME": None},
        }
    }
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True
# Tests read messages in the language they are written in; tests/test_i18n.py
# checks the Swedish default and the language switch explicitly.
LANGUAGE_CODE = "en"
# The suite sends many requests from one address; rate limits get tests of their own.
KNUTPUNKT_RATE_LIMITS = {
    scope: (1_000_000, window)
    for scope, (_n, window) in KNUTPUNKT_RATE_LIMITS.items()  # noqa: F405
}
# A cache namespace per test run, so that runs sharing a Redis never see each
# other's entries.
CACHES = {  # noqa: F405
    name: {**config, "KEY_PREFIX": f"test-{os.getpid()}"}
    for name, config in CACHES.items()  # noqa: F405
}
# Other tests sign staff in with force_login, which passes no second factor;
# the tests of staff sign-in (tests/staffauth) turn this rule on.
KNUTPUNKT_STAFF_TWO_FACTOR_REQUIRED = False
# No test reaches the real geocoder: tests that need one start a loopback
# Nominatim (tests/reports/conftest.py); elsewhere nothing listens here.
KNUTPUNKT_GEOCODER = {
    **KNUTPUNKT_GEOCODER,  # noqa: F405
    "domain": "127.0.0.1:9",
    "scheme": "http",
}
