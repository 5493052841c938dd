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
