"""Settings shared by every profile; runs with zero environment variables.

The embedded default (SQLite, in-memory channel layer, tasks in the database worked
inside the server process) is what you get without ``DATABASE_URL`` and
``REDIS_URL``. Setting them switches to the scaled profile: PostgreSQL, Redis as
channel layer and cache, and task workers as separate processes.
"""

import json
import os
from datetime import timedelta
from pathlib import Path

import dj_database_url
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent.parent
# Runtime state of the embedded default (SQLite file, uploads, demo accounts).
VAR_DIR = Path(os.environ.get("KNUTPUNKT_VAR_DIR", BASE_DIR / "var"))

SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "")
DEBUG = False
ALLOWED_HOSTS = [
    h.strip() for h in os.environ.get("DJANGO_ALLOWED_HOSTS", "").split(",") if h
]

INSTALLED_APPS = [
    "config",
    "municipalities",
    "reports",
    "cms",
    "casehub",
    "stats",
    "citizens",
    "workspace",
    # Before wagtail.admin: it extends the admin's sign-in page.
    "staffauth",
    "axes",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "wagtail.contrib.forms",
    "wagtail.contrib.redirects",
    "wagtail.contrib.settings",
    "wagtail.embeds",
    "wagtail.sites",
    "wagtail.users",
    "wagtail.snippets",
    "wagtail.documents",
    "wagtail.images",
    "wagtail.search",
    "wagtail.admin",
    "wagtail",
    "modelcluster",
    "taggit",
    "django_filters",
    "django_tasks",
    "django_tasks_db",
    "channels",
    "leaflet",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
]

# A form sent without a valid token gets the site's own page, in its language.
CSRF_FAILURE_VIEW = "config.views.csrf_failure"
MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "config.security.ContentSecurityPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "staffauth.middleware.SecondFactorMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "wagtail.contrib.redirects.middleware.RedirectMiddleware",
    # Last, as django-axes asks: it turns a locked-out sign-in into its answer.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"
ASGI_APPLICATION = "config.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.debug",
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "wagtail.contrib.settings.context_processors.settings",
                "reports.context_processors.map_tiles",
                "cms.context_processors.site_chrome",
            ],
            # Every moment shown to a person goes through one formatter.
            "libraries": {"moments": "infra.moments"},
        },
    },
]

# --- Database -------------------------------------------------------------
# SQLite in WAL mode with a busy timeout unless DATABASE_URL names another one.
DATABASE_URL = os.environ.get("DATABASE_URL", "")
if DATABASE_URL:
    # Under ASGI every request runs on a thread of its own, so connections are
    # not kept per thread (Django's advice) but lent from a pool per process,
    # each checked as it is lent (a database restart costs no failed request).
    DATABASES = {
        "default": dj_database_url.parse(DATABASE_URL, conn_health_checks=True)
    }
    DATABASES["default"].setdefault("OPTIONS", {})["pool"] = {
        "min_size": 1,
        "max_size": int(os.environ.get("KNUTPUNKT_DB_POOL_SIZE", "20")),
        "timeout": 10,
    }
    # Queries planned for answers in milliseconds: no JIT compilation (it
    # spent 100 to 200 ms compiling an inbox query that then ran in 15) and
    # no parallel workers (starting them took longer than the inbox's queries
    # they split); bench/inbox.py and bench/stats.py measure with both.
    _options = DATABASES["default"]["OPTIONS"]
    _options["options"] = " ".join(
        [
            "-c jit=off -c max_parallel_workers_per_gather=0",
            _options.get("options", ""),
        ]
    ).strip()
else:
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    DATABASES = {
        "default": {
            # Django's SQLite backend whose writers queue in the process
            # (infra/db/base.py) rather than in SQLite's sleeping busy handler.
            "ENGINE": "infra.db",
            "NAME": VAR_DIR / "knutpunkt.sqlite3",
            "OPTIONS": {
                # Seconds a writer waits for the lock before "database is locked".
                "timeout": 20,
                # Take the write lock at BEGIN, so two writers queue instead of
                # deadlocking on a read-then-write upgrade.
                "transaction_mode": "IMMEDIATE",
                "init_command": (
                    "PRAGMA journal_mode=WAL;"
                    "PRAGMA synchronous=NORMAL;"
                    "PRAGMA foreign_keys=ON;"
                ),
            },
        }
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Channel layer and cache ----------------------------------------------
# Each server process reads one channel carrying every live frame for its
# sockets (infra.live.LocalFanout), so a channel holds more than the default
# 100 messages before it refuses any.
CHANNEL_CAPACITY = 5000
REDIS_URL = os.environ.get("REDIS_URL", "")
if REDIS_URL:
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {
                # The layer's blocking reads wait 5 s; the client's own socket
                # timeout (also 5 s by default) must not cut them short.
                "hosts": [{"address": REDIS_URL, "socket_timeout": 30}],
                "prefix": os.environ.get("KNUTPUNKT_CHANNEL_PREFIX", "knutpunkt"),
                "capacity": CHANNEL_CAPACITY,
            },
        }
    }
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": os.environ.get("KNUTPUNKT_CACHE_PREFIX", "knutpunkt"),
        }
    }
else:
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels.layers.InMemoryChannelLayer",
            "CONFIG": {"capacity": CHANNEL_CAPACITY},
        }
    }
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# --- Background tasks -------------------------------------------------------
TASKS = {
    "default": {
        "BACKEND": "django_tasks_db.DatabaseBackend",
        "QUEUES": ["default"],
    }
}
# The embedded default works tasks on a thread inside the server process
# (`manage.py serve`); the scaled profile runs `manage.py worker` processes.
KNUTPUNKT_EMBEDDED_WORKER = not DATABASE_URL
# A server process runs the garbage collector's full pass this often, and only
# then (see config/management/commands/serve.py).
KNUTPUNKT_GC_FULL_PASS_SECONDS = float(
    os.environ.get("KNUTPUNKT_GC_FULL_PASS_SECONDS", "600")
)

# --- Auth -------------------------------------------------------------------
AUTH_PASSWORD_VALIDATORS = [
    {
        "NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"
    },
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "wagtailadmin_login"
# django-axes refuses a locked-out sign-in before the password is checked.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]

# --- Staff sign-in (staffauth) -----------------------------------------------
# Failed sign-ins within the cool-off, per rule (see staffauth/throttle.py).
KNUTPUNKT_STAFF_LOGIN_LIMITS = {
    "account_address": int(os.environ.get("KNUTPUNKT_LOGIN_FAILURES_ACCOUNT", "5")),
    "address": int(os.environ.get("KNUTPUNKT_LOGIN_FAILURES_ADDRESS", "20")),
    "account": int(os.environ.get("KNUTPUNKT_LOGIN_FAILURES_ACCOUNT_ANYWHERE", "50")),
    "cooloff_minutes": int(os.environ.get("KNUTPUNKT_LOGIN_COOLOFF_MINUTES", "15")),
}
AXES_HANDLER = "staffauth.throttle.StaffLoginHandler"
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"], "ip_address", "username"]
# The handler counts the rules that are exhausted; one is enough to lock.
AXES_FAILURE_LIMIT = 1
AXES_COOLOFF_TIME = timedelta(minutes=KNUTPUNKT_STAFF_LOGIN_LIMITS["cooloff_minutes"])
AXES_CLIENT_IP_CALLABLE = "infra.ratelimit.client_address"
AXES_LOCKOUT_CALLABLE = "staffauth.throttle.lockout_response"
AXES_RESET_ON_SUCCESS = True
# Guesses during a lockout do not lengthen it (nor are they recorded).
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
# No record of successful sign-ins (with their addresses) is kept; failures are
# kept for the cool-off only.
AXES_DISABLE_ACCESS_LOG = True
# Two-factor sign-in (staffauth/twofactor.py): required for kommun administrators
# and superusers unless this is "0".
KNUTPUNKT_STAFF_TWO_FACTOR_REQUIRED = (
    os.environ.get("KNUTPUNKT_STAFF_TWO_FACTOR_REQUIRED", "1") == "1"
)
OTP_TOTP_ISSUER = "Knutpunkt"
# After a wrong code the next is refused for 1 s, then 2, 4, ... (django-otp).
OTP_TOTP_THROTTLE_FACTOR = 1
OTP_STATIC_THROTTLE_FACTOR = 1
# Sign-in through each kommun's identity provider (staffauth/oidc.py): JSON, per
# kommun slug, with the client secrets; only ever from the environment.
KNUTPUNKT_STAFF_OIDC = json.loads(os.environ.get("KNUTPUNKT_STAFF_OIDC") or "{}")

# --- Languages --------------------------------------------------------------
LANGUAGE_CODE = "sv"
LANGUAGES = [("sv", _("Swedish")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Europe/Stockholm"
USE_I18N = True
USE_TZ = True
# Staff read times in Stockholm too: the admin offers no other time zone, and
# only the site's languages.
WAGTAIL_USER_TIME_ZONES = [TIME_ZONE]
WAGTAILADMIN_PERMITTED_LANGUAGES = [("sv", "Svenska"), ("en", "English")]

# --- Static and media -------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_URL = "/media/"
MEDIA_ROOT = VAR_DIR / "media"
# Photos hidden by moderation, kept for audit: never served (no URL).
KNUTPUNKT_MODERATED_ROOT = VAR_DIR / "moderated"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}
DATA_UPLOAD_MAX_NUMBER_FIELDS = 10_000

# --- Security defaults (tightened further in production) -------------------
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = False  # Wagtail's admin reads the token from the cookie.
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
SECURE_REFERRER_POLICY = "same-origin"

# --- Wagtail ----------------------------------------------------------------
WAGTAIL_SITE_NAME = "Knutpunkt"
WAGTAILADMIN_BASE_URL = os.environ.get("WAGTAILADMIN_BASE_URL", "http://localhost:8000")
WAGTAIL_I18N_ENABLED = False
# Wagtail's sign-in form, its password label translated (staffauth.forms).
WAGTAILADMIN_USER_LOGIN_FORM = "staffauth.forms.LoginForm"
# No Gravatar: it would send a hash of every staff member's e-mail address to a
# third party (and the CSP blocks its images anyway).
WAGTAIL_GRAVATAR_PROVIDER_URL = None
# No check for new Wagtail releases from the admin: it would reach a third
# party from editors' browsers (and the admin's CSP refuses it).
WAGTAIL_ENABLE_UPDATE_CHECK = False
# The admin's page search lists only the pages the user may edit (Wagtail's
# default, relied on: an editor's are their kommun's site's; cms.wagtail_hooks).
WAGTAILADMIN_PAGE_SEARCH_FILTER_BY_PERMISSIONS = True
WAGTAILSEARCH_BACKENDS = {"default": {"BACKEND": "wagtail.search.backends.database"}}
WAGTAILDOCS_EXTENSIONS = ["csv", "docx", "odt", "pdf", "txt", "xlsx"]

# --- Knutpunkt --------------------------------------------------------------
# Each kommun's Wagtail site is served at <slug>.<KNUTPUNKT_SITE_DOMAIN>;
# the national site at the bare domain.
KNUTPUNKT_SITE_DOMAIN = os.environ.get("KNUTPUNKT_SITE_DOMAIN", "localhost")
KNUTPUNKT_SITE_PORT = int(os.environ.get("KNUTPUNKT_SITE_PORT", "80"))
# A point outside every kommun polygon is given to the nearest kommun within
# this distance (coasts, piers, border slivers).
KNUTPUNKT_NEAREST_MAX_METERS = float(
    os.environ.get("KNUTPUNKT_NEAREST_MAX_METERS", "5000")
)
# How often a process checks whether another process activated new boundaries.
KNUTPUNKT_BOUNDARY_RECHECK_SECONDS = 30.0

LEAFLET_CONFIG = {
    "DEFAULT_CENTER": (62.0, 15.0),
    "DEFAULT_ZOOM": 5,
    "MIN_ZOOM": 4,
    "MAX_ZOOM": 19,
    "TILES": [
        (
            "OpenStreetMap",
            os.environ.get(
                "KNUTPUNKT_TILE_URL", "https://tile.openstreetmap.org/{z}/{x}/{y}.png"
            ),
            {
                "attribution": os.environ.get(
                    "KNUTPUNKT_TILE_ATTRIBUTION",
                    "&copy; OpenStreetMap contributors",
                ),
                "maxZoom": 19,
            },
        )
    ],
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}
    },
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": "WARNING"},
    "loggers": {
        "knutpunkt": {"level": os.environ.get("KNUTPUNKT_LOG_LEVEL", "INFO")},
    },
}

# Anonymous endpoints: (requests, window in seconds) per client address.
KNUTPUNKT_RATE_LIMITS = {
    "locate": (120, 60),
    "reports_map": (600, 60),
    # Case systems pushing status signals, per address.
    "signals": (1200, 60),
}
# How many proxies in front of the web processes append to X-Forwarded-For
# (infra.ratelimit.client_address); 0: none, the peer is the client.
KNUTPUNKT_TRUSTED_PROXIES = int(os.environ.get("KNUTPUNKT_TRUSTED_PROXIES", "0"))

# Citizen reporting.
KNUTPUNKT_CONFIRMATION_TTL_HOURS = 72
KNUTPUNKT_MAX_PHOTOS = 3
KNUTPUNKT_PHOTO_MAX_BYTES = 15 * 1024 * 1024
KNUTPUNKT_NEARBY_METERS = 250
# Followers get at most one e-mail per report in this many seconds.
KNUTPUNKT_NOTIFY_BATCH_SECONDS = 600
# Decoded pixels of all photos of one report together (reports.photos): a
# JPEG counts at the reduced scale it is decoded at, other formats in full.
KNUTPUNKT_PHOTO_MAX_PIXELS_PER_REQUEST = 60_000_000
# Django's own caps, behind the body caps below: form fields (files excluded),
# the number of files, and the size an upload may take in memory before it is
# spooled to a temporary file.
DATA_UPLOAD_MAX_MEMORY_SIZE = 2_621_440
DATA_UPLOAD_MAX_NUMBER_FILES = 10
FILE_UPLOAD_MAX_MEMORY_SIZE = 2_621_440
# Case systems' status signals (a signed webhook, an Open311 update) are small.
KNUTPUNKT_SIGNAL_MAX_BYTES = 64 * 1024
# What the editors' uploads in the admin may weigh (an image, a document).
WAGTAILIMAGES_MAX_UPLOAD_SIZE = 20 * 1024 * 1024
KNUTPUNKT_ADMIN_MAX_BYTES = WAGTAILIMAGES_MAX_UPLOAD_SIZE + DATA_UPLOAD_MAX_MEMORY_SIZE
# The report form: its photos, its fields and the multipart framing.
KNUTPUNKT_REPORT_FORM_MAX_BYTES = (
    KNUTPUNKT_MAX_PHOTOS * KNUTPUNKT_PHOTO_MAX_BYTES + 256 * 1024
)
# A citizen's update on a report: its text and one photo.
KNUTPUNKT_UPDATE_FORM_MAX_BYTES = KNUTPUNKT_PHOTO_MAX_BYTES + 256 * 1024
# Request bodies are capped before they are read (infra.asgi), whatever their
# framing: by path (a key ending in "*" is a prefix, any other key one exact
# path; an exact path, then the longest prefix wins), else the default, which
# is small: every other page, form and API takes a few kilobytes.
KNUTPUNKT_BODY_LIMITS = {
    "/rapportera/": KNUTPUNKT_REPORT_FORM_MAX_BYTES,
    "/en/rapportera/": KNUTPUNKT_REPORT_FORM_MAX_BYTES,
    "/rapporter/uppdatera/*": KNUTPUNKT_UPDATE_FORM_MAX_BYTES,
    "/en/rapporter/uppdatera/*": KNUTPUNKT_UPDATE_FORM_MAX_BYTES,
    "/admin/*": KNUTPUNKT_ADMIN_MAX_BYTES,
    "/api/v1/connections/*": KNUTPUNKT_SIGNAL_MAX_BYTES,
    "/open311/*": KNUTPUNKT_SIGNAL_MAX_BYTES,
}
KNUTPUNKT_BODY_LIMIT_DEFAULT = 64 * 1024
DEFAULT_FROM_EMAIL = os.environ.get(
    "DEFAULT_FROM_EMAIL", "Knutpunkt <noreply@localhost>"
)
# Where visitors report accessibility problems, until a kommun's editors put
# their own address in their site's accessibility statement.
KNUTPUNKT_ACCESSIBILITY_EMAIL = os.environ.get(
    "KNUTPUNKT_ACCESSIBILITY_EMAIL", f"tillganglighet@{KNUTPUNKT_SITE_DOMAIN}"
)
EMAIL_HOST = os.environ.get("EMAIL_HOST", "localhost")
EMAIL_PORT = int(os.environ.get("EMAIL_PORT", "25"))
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = os.environ.get("EMAIL_USE_TLS", "0") == "1"
EMAIL_TIMEOUT = 10
# Place search through geopy; Nominatim by default (its usage policy asks for a
# real user agent and at most one request per second).
KNUTPUNKT_GEOCODER = {
    "domain": os.environ.get(
        "KNUTPUNKT_GEOCODER_DOMAIN", "nominatim.openstreetmap.org"
    ),
    "scheme": os.environ.get("KNUTPUNKT_GEOCODER_SCHEME", "https"),
    "user_agent": os.environ.get("KNUTPUNKT_GEOCODER_USER_AGENT", "knutpunkt"),
    "timeout": 2.0,
}
KNUTPUNKT_RATE_LIMITS.update(
    {
        "report_submit": (20, 3600),
        # Place search, through the API and the form page's own search (?q=):
        # each one may reach the geocoder.
        "geocode": (60, 60),
        "categories": (120, 60),
        "nearby": (120, 60),
        "follow": (30, 3600),
        # Citizens' updates on a report (each may carry a photo).
        "report_update": (30, 3600),
        # Opening an e-mailed link (confirming a report or a subscription,
        # signing in to Mina sidor).
        "confirm": (60, 3600),
        # Asking for a Mina sidor link: per client address, and per e-mail
        # address whoever asks.
        "my_reports_link": (10, 3600),
        "my_reports_link_email": (3, 3600),
        # The admin's password reset (staffauth): per address, per e-mail address.
        "password_reset_address": (10, 3600),
        "password_reset_account": (3, 3600),
        # Sign-ins through a kommun's identity provider, started or finished.
        "staff_oidc": (60, 600),
        # Citizens' sign-in with a password (citizens): per client address,
        # and per e-mail address tried, whoever tries it.
        "citizen_sign_in": (30, 900),
        "citizen_sign_in_account": (10, 900),
        # Asking for a citizen's e-mailed link (sign-up, sign-in, my data):
        # per client address, and per e-mail address (past it nothing is
        # sent and the answer is unchanged).
        "citizen_link": (10, 3600),
        "citizen_link_email": (3, 3600),
        # Sign-ins with e-legitimation through the broker, started or finished.
        "citizen_eid": (60, 600),
        # The public statistics' CSV files, for visitors not signed in: each
        # reads a period's figures afresh.
        "statistics_csv": (60, 600),
        # Asking for an alert (reports.alerts): per client address, and per
        # e-mail address whoever asks; SMS codes per alert.
        "alert_signup": (20, 3600),
        "alert_signup_email": (5, 3600),
        "alert_sms_code": (3, 3600),
        # The Atom and RSS feeds, per client address.
        "feeds": (120, 60),
    }
)
# Citizens' sign-in with e-legitimation through an OpenID Connect broker
# (citizens/oidc.py): JSON with issuer, client_id, client_secret and the name
# shown ("BankID eller Freja eID"); empty: not offered.
KNUTPUNKT_CITIZEN_OIDC = json.loads(os.environ.get("KNUTPUNKT_CITIZEN_OIDC") or "{}")
# How long a Mina sidor sign-in link works (it works once).
KNUTPUNKT_MY_REPORTS_LINK_TTL_MINUTES = 30
# The daily e-mail of overdue reports to each body's case handlers
# (workspace.digest): sent from this hour, Stockholm time, on the kommun's
# working days; the scheduler looks every so many seconds.
KNUTPUNKT_DIGEST_HOUR = int(os.environ.get("KNUTPUNKT_DIGEST_HOUR", "7"))
KNUTPUNKT_DIGEST_CHECK_SECONDS = 60.0
# Scheduled publishing of the sites' pages ("go live at", "expire at";
# cms.scheduled): looked for every so many seconds by the server (embedded
# profile) or each worker (scaled profile).
KNUTPUNKT_PUBLISH_SCHEDULED_SECONDS = float(
    os.environ.get("KNUTPUNKT_PUBLISH_SCHEDULED_SECONDS", "60")
)
# "Is it fixed?" (reports.questionnaire): the scheduler looks every so many
# seconds; a questionnaire's link works for at least so many days.
KNUTPUNKT_QUESTIONNAIRE_CHECK_SECONDS = float(
    os.environ.get("KNUTPUNKT_QUESTIONNAIRE_CHECK_SECONDS", "300")
)
KNUTPUNKT_QUESTIONNAIRE_LINK_DAYS = 56
# Alerts of new reports in an area, a kommun or a category (reports.alerts):
# the radius an area may have, in metres; at most one digest per alert in so
# many seconds; the scheduler looks every so many seconds.
KNUTPUNKT_ALERT_RADIUS_MIN_M = 100
KNUTPUNKT_ALERT_RADIUS_MAX_M = 20_000
KNUTPUNKT_ALERT_DIGEST_SECONDS = 3600
KNUTPUNKT_ALERT_CHECK_SECONDS = 60.0
# Reports confirmed in the last so many seconds wait for the next look (their
# transaction may not have committed yet).
KNUTPUNKT_ALERT_SETTLE_SECONDS = 30
# SMS, where the operator has a provider (infra.sms; none is built in): a
# gateway taking POST {"to": "+46…", "text": "…"} as JSON with
# "Authorization: Bearer <token>", the token read from the environment
# variable named by "token_env". No URL: no SMS is offered.
KNUTPUNKT_SMS_GATEWAY = {
    "url": os.environ.get("KNUTPUNKT_SMS_GATEWAY_URL", ""),
    "token_env": "KNUTPUNKT_SMS_GATEWAY_TOKEN",
    "timeout": 5.0,
}
# How long an SMS code works, and how many tries it allows.
KNUTPUNKT_SMS_CODE_TTL_MINUTES = 10
KNUTPUNKT_SMS_CODE_TRIES = 5
# Served documents keep no CSP; the admin has its own (config.security).
KNUTPUNKT_CSP_EXEMPT_PREFIXES = ("/documents/",)

# --- Delivery to case systems (casehub.outbox) ---------------------------------
# Connections may reach private addresses (a kommun's own network, or loopback in
# development); production refuses them unless told otherwise.
KNUTPUNKT_CONNECTIONS_ALLOW_PRIVATE = (
    os.environ.get("KNUTPUNKT_CONNECTIONS_ALLOW_PRIVATE", "1") == "1"
)
KNUTPUNKT_CONNECTIONS_REQUIRE_HTTPS = (
    os.environ.get("KNUTPUNKT_CONNECTIONS_REQUIRE_HTTPS", "0") == "1"
)
# Replies to e-mailed cases come back to <local>+<report>.<signature>@<domain>.
KNUTPUNKT_REPLY_EMAIL = os.environ.get("KNUTPUNKT_REPLY_EMAIL", "svar@localhost")


def _delivery_setting(name: str, default: float) -> float:
    return float(os.environ.get(f"KNUTPUNKT_DELIVERY_{name}", default))


KNUTPUNKT_DELIVERY = {
    # Sending threads per worker process; each connection has its own cap too.
    "threads": int(_delivery_setting("THREADS", 8)),
    "poll_seconds": _delivery_setting("POLL_SECONDS", 0.5),
    # A claimed delivery is leased for this long, renewed while it is being sent:
    # a dispatcher that dies holds its connections' places for no longer.
    "lease_seconds": _delivery_setting("LEASE_SECONDS", 20),
    # Retries: capped exponential backoff with jitter; given up after a while.
    "backoff_base_seconds": _delivery_setting("BACKOFF_BASE_SECONDS", 60),
    "backoff_cap_seconds": _delivery_setting("BACKOFF_CAP_SECONDS", 6 * 3600),
    "give_up_after_seconds": _delivery_setting("GIVE_UP_AFTER_SECONDS", 3 * 24 * 3600),
    # The circuit opens after this many failures in a row, for the cool-down
    # (doubling with each failed probe, up to the cap).
    "circuit_threshold": int(_delivery_setting("CIRCUIT_THRESHOLD", 5)),
    "circuit_cooldown_seconds": _delivery_setting("CIRCUIT_COOLDOWN_SECONDS", 60),
    "circuit_cooldown_cap_seconds": _delivery_setting(
        "CIRCUIT_COOLDOWN_CAP_SECONDS", 1800
    ),
    "token_check_seconds": 60.0,
    # How often an Open311 connection with "poll for status updates" is asked.
    "poll_updates_seconds": _delivery_setting("POLL_UPDATES_SECONDS", 60),
}
# The demo's Open311 case system for Malmö's street department
# (config.demo_case_system): off here and in production, on in development.
KNUTPUNKT_DEMO_CASE_SYSTEM = None
