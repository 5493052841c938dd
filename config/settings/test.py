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
