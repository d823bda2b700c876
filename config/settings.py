"""Settings for the event-driven shop. Everything comes from the environment.

`make demo` (devstack) starts embedded servers and exports their URLs; the defaults
below are the demo's ports so `manage.py` also works beside a running demo.
"""

import os
import re
from pathlib import Path
from urllib.parse import urlsplit

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from messaging.durations import parse_duration, parse_retention

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name: str, default: bool = False) -> bool:
    return os.environ.get(name, str(default)).strip().lower() in {"1", "true", "yes", "on"}


def env_duration(name: str, default: str):
    """A positive duration ("7d", "12h", "30m", "45s" or seconds); a bad one stops start-up."""
    return parse_duration(os.environ.get(name, default), name=name)


def env_ratio(name: str, default: str) -> float:
    """A number, 0 or more; a bad one stops start-up, naming the variable."""
    value = os.environ.get(name, default)
    try:
        ratio = float(value)
    except ValueError:
        ratio = -1.0
    if not ratio >= 0:  # also refuses nan
        raise ImproperlyConfigured(f"{name}={value!r}: a number, 0 or more (e.g. 1 or 0.5)")
    return ratio


def secret_key() -> str:
    """From DJANGO_SECRET_KEY or the file DJANGO_SECRET_KEY_FILE names; never from the code,
    except a development key that only DEBUG accepts."""
    if os.environ.get("DJANGO_SECRET_KEY"):
        return os.environ["DJANGO_SECRET_KEY"]
    if os.environ.get("DJANGO_SECRET_KEY_FILE"):
        return Path(os.environ["DJANGO_SECRET_KEY_FILE"]).read_text().strip()
    if DEBUG:
        return "development-only-key-refused-when-debug-is-off"
    raise ImproperlyConfigured("Set DJANGO_SECRET_KEY (or DJANGO_SECRET_KEY_FILE).")


DEMO_MODE = env_bool("SHOP_DEMO")
# Revenue is business data: outside the demo only accounts with the sales permission see
# the figures (sales.access); the demo opens them so a visitor watches the projection move.
SALES_FIGURES_PUBLIC = DEMO_MODE
DEBUG = env_bool("DJANGO_DEBUG", default=DEMO_MODE)
SECRET_KEY = secret_key()
ALLOWED_HOSTS = os.environ.get("DJANGO_ALLOWED_HOSTS", "127.0.0.1,localhost,testserver").split(",")

# HTTPS everywhere unless DEBUG; a local demo over plain http turns these off explicitly.
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env_bool("DJANGO_SECURE_SSL_REDIRECT", default=not DEBUG)
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = env_bool("DJANGO_SECURE_COOKIES", default=not DEBUG)
# HSTS only where HTTPS is really served: pinning https on a plain-http host locks users out.
SECURE_HSTS_SECONDS = int(
    os.environ.get("DJANGO_HSTS_SECONDS", 31_536_000 if SECURE_SSL_REDIRECT else 0)
)
SECURE_HSTS_INCLUDE_SUBDOMAINS = SECURE_HSTS_PRELOAD = SECURE_HSTS_SECONDS > 0
SESSION_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    "drf_spectacular_sidecar",  # Swagger UI's files, served by us: the API docs need no CDN
    "messaging",
    "messagelog",
    "shop",
    "warehouse",
    "notifications",
    "sales",
    "loyalty",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "config" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
            # `{{ amount|money:currency }}` in every app's templates.
            "builtins": ["config.money"],
        },
    },
]

DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL", "postgresql://postgres@127.0.0.1:5490/shop"),
        conn_max_age=int(os.environ.get("DATABASE_CONN_MAX_AGE", "60")),
        # A round trip (SELECT 1) at the first query of each request or consumer batch, so
        # that a connection the database dropped is replaced before it fails anything. The
        # web turns it off (config.gunicorn); the workers keep it.
        conn_health_checks=env_bool("DATABASE_CONN_HEALTH_CHECKS", default=True),
    )
}
# The database's sessions, each written in one statement (config.sessions).
SESSION_ENGINE = "config.sessions"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "config" / "static"]
# WhiteNoise serves static files from the app server itself: in production the hashed,
# compressed copies `collectstatic` made (the Docker image does it at build time); in
# development and tests straight from the source folders.
STATIC_MANIFEST = env_bool("DJANGO_STATIC_MANIFEST", default=not DEBUG)
WHITENOISE_USE_FINDERS = not STATIC_MANIFEST
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if STATIC_MANIFEST
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}

LOGIN_URL = "shop:login"
LOGIN_REDIRECT_URL = "shop:my-orders"
LOGOUT_REDIRECT_URL = "shop:catalog"

# Mail: the demo keeps sent mail in the notifications app's database table.
EMAIL_BACKEND = os.environ.get("EMAIL_BACKEND", "notifications.backends.DatabaseEmailBackend")
EMAIL_HOST = os.environ.get("EMAIL_HOST", "localhost")
EMAIL_PORT = int(os.environ.get("EMAIL_PORT", "25"))
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "Event-Driven Shop <shop@example.com>")
# Seconds per SMTP operation; a delivery's lease (notifications/conf.py) must outlast a send.
EMAIL_TIMEOUT = float(os.environ.get("EMAIL_TIMEOUT", "10"))
TEXT_BACKEND = os.environ.get("TEXT_BACKEND", "notifications.backends.DatabaseTextBackend")

# Celery: Redis is the task broker; Kafka carries the business messages.
CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL", "redis://127.0.0.1:6390/0")
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_IGNORE_RESULT = True
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# Celery's Django fixup closes a task's database connection before and after every task
# unless this is set, and then the calling thread's once in about this many tasks of the
# process: every delivery and every packing timer paid for a new PostgreSQL backend (1.7
# per order at saturation). A task's connection lives as a request's does instead
# (messaging.worker: Django's close_old_connections around each task, so
# DATABASE_CONN_MAX_AGE and the health checks apply).
CELERY_DB_REUSE_MAX = 1000
# Each app's tasks run on its own worker (see the Procfile).
CELERY_TASK_ROUTES = {
    "notifications.*": {"queue": "notifications"},
    "warehouse.*": {"queue": "warehouse"},
    # The platform's own work runs beside the audit group; a retry of a parked record is
    # sent to the queue of the group it belongs to (messaging.parking).
    "messaging.*": {"queue": "audit"},
}
CELERY_BEAT_SCHEDULE = {
    # Safety nets for delayed tasks lost with a worker or Redis restart.
    # Lost deliveries and dead claims: a crashed send is recovered within a lease plus this.
    "notifications-deliver-stuck": {"task": "notifications.deliver_stuck", "schedule": 10.0},
    "warehouse-ship-due": {"task": "warehouse.ship_due", "schedule": 10.0},
    "messaging-retry-due": {"task": "messaging.retry_due", "schedule": 10.0},
    "messaging-publish-dead-letters": {"task": "messaging.publish_dead_letters", "schedule": 60.0},
    # Heartbeats of processes that died long ago (a clean stop deletes its own at once).
    "messaging-forget-silent-processes": {
        "task": "messaging.forget_silent_processes",
        "schedule": 3600.0,
    },
    # Bounded tables: what nothing needs any more goes, in small batches (messaging.retention).
    "messaging-purge": {
        "task": "messaging.purge_messages",
        "schedule": env_duration("PURGE_INTERVAL", "1h").total_seconds(),
    },
}

# The currency of every price in the shop (ISO 4217). Messages carry it with each amount.
SHOP_CURRENCY = os.environ.get("SHOP_CURRENCY", "EUR")
if not re.fullmatch(r"[A-Z]{3}", SHOP_CURRENCY):
    raise ImproperlyConfigured(
        f"SHOP_CURRENCY must be an ISO 4217 code of three capital letters, not {SHOP_CURRENCY!r}"
    )

# How long the warehouse packs an order before it ships: the window in which a customer's
# cancellation still stops the parcel.
WAREHOUSE_PACKING_SECONDS = float(os.environ.get("WAREHOUSE_PACKING_SECONDS", "10"))

# Kafka and the messaging platform (see messaging/conf.py for every key and its default).
MESSAGING = {
    "BOOTSTRAP_SERVERS": os.environ.get("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:9092"),
    "TOPIC_PARTITIONS": int(os.environ.get("KAFKA_TOPIC_PARTITIONS", "4")),
    "EVENT_API_URL": os.environ.get("EVENT_API_URL", "http://127.0.0.1:8000/api/asyncapi.json"),
    "HEARTBEAT_INTERVAL": float(os.environ.get("HEARTBEAT_INTERVAL", "5")),
    "CONSUMER_FETCH_MAX_WAIT_MS": int(os.environ.get("KAFKA_FETCH_MAX_WAIT_MS", "100")),
    "CONSUMER_MAX_RECORDS": int(os.environ.get("KAFKA_MAX_POLL_RECORDS", "200")),
    # How long rows are kept once nothing needs them (README, "Retention"). RETAIN_INBOX is
    # the inbox window: command topics keep their records for less (create_topics).
    "RETAIN_OUTBOX": env_duration("RETAIN_OUTBOX", "7d"),
    "RETAIN_INBOX": env_duration("RETAIN_INBOX", "7d"),
    "RETAIN_MESSAGE_LOG": env_duration("RETAIN_MESSAGE_LOG", "30d"),
    "RETAIN_HANDLING_FAILURES": env_duration("RETAIN_HANDLING_FAILURES", "30d"),
    "RETAIN_DEAD_LETTERS": env_duration("RETAIN_DEAD_LETTERS", "30d"),
    "RETAIN_BROKER_LOSSES": env_duration("RETAIN_BROKER_LOSSES", "30d"),
    # How long POST /api/orders/ remembers an Idempotency-Key: a retry within it places
    # nothing new. A day at least.
    "RETAIN_IDEMPOTENCY_KEYS": env_duration("RETAIN_IDEMPOTENCY_KEYS", "7d"),
    # The purge's pause after each batch, as a multiple of the batch's time: 1 (the
    # default) works half the time, 0 deletes back to back (messaging/conf.py says why).
    "PURGE_PAUSE": env_ratio("PURGE_PAUSE", "1"),
    "EVENT_TOPIC_RETENTION": parse_retention(
        os.environ.get("KAFKA_EVENT_TOPIC_RETENTION", "unlimited"),
        name="KAFKA_EVENT_TOPIC_RETENTION",
    ),
}

# The cache is shared by every web process: the API's rate limits count there.
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": os.environ.get(
            "CACHE_URL", urlsplit(CELERY_BROKER_URL)._replace(path="/1").geturl()
        ),
    }
}

REST_FRAMEWORK = {
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    # Token first: a request without credentials then gets 401 with WWW-Authenticate.
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    # Closed unless a view says otherwise (the catalog and sales figures are public).
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_THROTTLE_RATES": {
        "order_placement": os.environ.get("ORDER_RATE_LIMIT", "30/min"),  # per account
        "token": os.environ.get("TOKEN_RATE_LIMIT", "10/min"),  # per client address
    },
    # How many proxies in front append to X-Forwarded-For; the client address is read past
    # them. DRF's default (None) takes the header as sent, so a client could vary it to
    # escape the limit; 0 means "no proxy": the socket's address.
    "NUM_PROXIES": int(os.environ.get("NUM_PROXIES", "0")),
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Event-Driven Shop API",
    "DESCRIPTION": (
        "Browse the catalog, place and cancel orders, follow an order's conversation. "
        "Placing and cancelling answer 202 Accepted: the shop handles the command through "
        "Kafka, and the order shows the outcome. Sign in with a session or with a token "
        "from POST /api/auth/token/, sent as `Authorization: Token <key>`. The commands and "
        "events behind it, on Kafka: [/api/events/](/api/events/) (AsyncAPI 3.0 at "
        "[/api/asyncapi.json](/api/asyncapi.json))."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    # Swagger UI would otherwise send the schema to validator.swagger.io.
    "SWAGGER_UI_SETTINGS": {"deepLinking": True, "validatorUrl": None},
}

# Logs: plain lines in a terminal, JSON lines (LOG_FORMAT=json) where logs are collected.
# Every line written while a message is handled carries its correlation id; lines name ids,
# never people, and the "personal" filter masks what an error may quote (an email).
LOG_FORMAT = os.environ.get("LOG_FORMAT", "plain")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {
        "message": {"()": "messaging.logcontext.MessageContextFilter"},
        "personal": {"()": "messaging.logcontext.PersonalDataFilter"},
    },
    "formatters": {
        "plain": {
            "format": "%(asctime)s %(levelname)s %(name)s [%(correlation_id)s] %(message)s",
        },
        "json": {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "format": "%(asctime)s %(levelname)s %(name)s %(message)s %(correlation_id)s "
            "%(message_id)s %(group)s %(trace_id)s %(span_id)s",
            "rename_fields": {"asctime": "time", "levelname": "level", "name": "logger"},
        },
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": LOG_FORMAT,
            "filters": ["message", "personal"],
        },
    },
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {
        "kafka": {"level": "WARNING"},
        # One line per periodic task and per task run drowns the demo's console; the
        # messages' own handling is logged by messaging at INFO.
        "celery.beat": {"level": os.environ.get("CELERY_TASK_LOG_LEVEL", "WARNING")},
        "celery.app.trace": {"level": os.environ.get("CELERY_TASK_LOG_LEVEL", "WARNING")},
        "celery.worker.strategy": {"level": os.environ.get("CELERY_TASK_LOG_LEVEL", "WARNING")},
    },
}
# Celery leaves logging to Django's configuration above.
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
