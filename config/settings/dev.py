"""Local development: the embedded default with DEBUG on."""

import os

from .base import *  # noqa: F403
from .base import KNUTPUNKT_SITE_DOMAIN

# DJANGO_DEBUG=0 shows the site's own error pages (as in production), for
# example to check them in a browser.
DEBUG = os.environ.get("DJANGO_DEBUG", "1") == "1"
# A development-only key; production.py refuses to start without a real one.
SECRET_KEY = "django-insecure-knutpunkt-development-only"  # noqa: S105
ALLOWED_HOSTS = ["localhost", f".{KNUTPUNKT_SITE_DOMAIN}", "127.0.0.1", "[::1]"]
KNUTPUNKT_SITE_PORT = 8000
EMAIL_BACKEND = os.environ.get(
    "DJANGO_EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend"
)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True

# The demo's case system: ``serve`` runs it beside the site once ``load_demo`` has
# connected Malmö's street department to it (config.demo_case_system).
KNUTPUNKT_DEMO_CASE_SYSTEM = (
    {
        "port": int(os.environ.get("KNUTPUNKT_DEMO_CASE_SYSTEM_PORT", "8311")),
        "in_progress_after_seconds": float(
            os.environ.get("KNUTPUNKT_DEMO_IN_PROGRESS_AFTER_SECONDS", "60")
        ),
        "fixed_after_seconds": float(
            os.environ.get("KNUTPUNKT_DEMO_FIXED_AFTER_SECONDS", "240")
        ),
    }
    if os.environ.get("KNUTPUNKT_DEMO_CASE_SYSTEM", "1") == "1"
    else None
)
