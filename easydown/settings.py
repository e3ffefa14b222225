"""One env-driven settings module.

Every environment variable is read once, here, through a typed helper. Unset services fall back to
embedded defaults (SQLite, local-memory cache, tasks in-process) so a laptop runs with no set-up;
tests and production set DATABASE_URL and REDIS_URL.
"""

import json
import os
from pathlib import Path
from urllib.parse import unquote, urlsplit

from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent


def env_str(name: str, default: str | None = None) -> str | None:
    value = os.environ.get(name)
    return default if value in (None, "") else value


def env_bool(name: str, default: bool = False) -> bool:
    value = env_str(name)
    if value is None:
        return default
    return value.lower() in ("1", "true", "yes", "on")


def env_int(name: str, default: int) -> int:
    value = env_str(name)
    return default if value is None else int(value)


def env_float(name: str, default: float) -> float:
    value = env_str(name)
    return default if value is None else float(value)


def env_json(name: str, default: dict) -> dict:
    value = env_str(name)
    return default if value is None else json.loads(value)


POOL_SIZE = env_int("DB_POOL_SIZE", 0)
# Behind PgBouncer in transaction mode (DB_PGBOUNCER=1): a server connection serves one transaction, then
# another client's, so nothing may live on it between transactions: no prepared statements (PgBouncer before
# 1.21 cannot keep them), no server-side cursors, and no startup options (PgBouncer refuses them: set
# statement_timeout on the role instead, ALTER ROLE … SET statement_timeout = '10s').
PGBOUNCER = env_bool("DB_PGBOUNCER", False)
# "off" for the worker (run-worker.sh; run-api.sh never passes it on): its writes (claim, result, a failure
# with its release, sweeps) commit without waiting for the disk, about 60 µs less PostgreSQL CPU per
# statement. A PostgreSQL crash may then forget the last fraction of a second of them; each such job is left
# open (its hold still held) for the sweeper to settle without a charge. Every ledger row (a charge, a
# refund, a top-up) commits durably whatever this says (billing.services.durable), and so does everything
# before it in the log. Not for the API: its Idempotency-Key records must outlive a crash. Unset:
# PostgreSQL's setting. Ignored behind PgBouncer (no startup options there).
SYNCHRONOUS_COMMIT = env_str("DB_SYNCHRONOUS_COMMIT") or ""
if SYNCHRONOUS_COMMIT not in ("", "on", "off", "local", "remote_write", "remote_apply"):
    raise ImproperlyConfigured(f"DB_SYNCHRONOUS_COMMIT={SYNCHRONOUS_COMMIT!r} is not a synchronous_commit value")
SYNCHRONOUS_COMMIT_OPTION = f" -c synchronous_commit={SYNCHRONOUS_COMMIT}" if SYNCHRONOUS_COMMIT else ""


def database_from_url(url: str) -> dict:
    """Translate postgres://user:pass@host:port/name into a DATABASES entry."""
    parts = urlsplit(url)
    if parts.scheme not in ("postgres", "postgresql"):
        raise ImproperlyConfigured(f"DATABASE_URL scheme {parts.scheme!r} is not supported")
    return {
        "ENGINE": "easydown.postgres",
        "NAME": unquote(parts.path.lstrip("/")),
        "USER": unquote(parts.username or ""),
        "PASSWORD": unquote(parts.password or ""),
        "HOST": parts.hostname or "",
        "PORT": str(parts.port or ""),
        "CONN_MAX_AGE": 0 if POOL_SIZE else env_int("DB_CONN_MAX_AGE", 60),
        # Django's backend but for the pool's check of every connection it hands out (easydown.dbcheck: a
        # round trip only when the socket has news), so a restarted PostgreSQL costs no failed request.
        "CONN_HEALTH_CHECKS": True,
        # The API and the worker use pools (DB_POOL_SIZE); management commands keep persistent connections.
        # A database that does not answer fails fast instead of hanging a request.
        "OPTIONS": {
            **({"pool": {"min_size": 1, "max_size": POOL_SIZE, "timeout": env_float("DB_POOL_TIMEOUT", 5.0)}}
               if POOL_SIZE else {}),
            "connect_timeout": env_int("DB_CONNECT_TIMEOUT", 3),
            **({} if PGBOUNCER else {"options": f"-c statement_timeout={env_int('DB_STATEMENT_TIMEOUT_MS', 10000)}"
                                                + SYNCHRONOUS_COMMIT_OPTION}),
            # Only the paid path's few statements are prepared (easydown.hotsql asks for it on each); the
            # ORM's client-side cursors never prepare. psycopg needs a threshold set for either to happen.
            "prepare_threshold": None if PGBOUNCER else 1_000_000,
        },
        "DISABLE_SERVER_SIDE_CURSORS": PGBOUNCER,
        "TEST": {"NAME": env_str("DATABASE_TEST_NAME")},
    }


DEBUG = env_bool("DJANGO_DEBUG", False)
SECRET_KEY = env_str("DJANGO_SECRET_KEY")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("DJANGO_SECRET_KEY must be set when DJANGO_DEBUG is off")
    SECRET_KEY = "dev-only-insecure-secret-key-do-not-use-in-production"

# Pepper for API-key hashes. Separate from SECRET_KEY so rotating one does not invalidate the other.
API_KEY_PEPPER = env_str("EASYDOWN_API_KEY_PEPPER")
if not API_KEY_PEPPER:
    if not DEBUG:
        raise ImproperlyConfigured("EASYDOWN_API_KEY_PEPPER must be set when DJANGO_DEBUG is off")
    API_KEY_PEPPER = "dev-only-insecure-pepper"

ALLOWED_HOSTS = (env_str("DJANGO_ALLOWED_HOSTS", "localhost,127.0.0.1,[::1],testserver") or "").split(",")
CSRF_TRUSTED_ORIGINS = [o for o in (env_str("DJANGO_CSRF_TRUSTED_ORIGINS", "") or "").split(",") if o]
# Behind a proxy, the client address comes from this header only (e.g. HTTP_X_REAL_IP; never by default),
# and only on connections from EASYDOWN_TRUSTED_PROXIES (comma-separated CIDRs; default: this machine).
CLIENT_IP_HEADER = env_str("EASYDOWN_CLIENT_IP_HEADER")
TRUSTED_PROXIES: list[str] = [n.strip() for n in (env_str("EASYDOWN_TRUSTED_PROXIES", "127.0.0.1/32,::1/128")
                                                   or "").split(",") if n.strip()]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "accounts",
    "billing",
    "parsing",
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

ROOT_URLCONF = "easydown.urls"
WSGI_APPLICATION = None
ASGI_APPLICATION = "easydown.asgi.application"

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
            ],
        },
    },
]

DATABASE_URL = env_str("DATABASE_URL")
if DATABASE_URL:
    DATABASES = {"default": database_from_url(DATABASE_URL)}
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": env_str("SQLITE_PATH", str(BASE_DIR / "db.sqlite3")),
            "OPTIONS": {"timeout": 20, "transaction_mode": "IMMEDIATE"},
        }
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "accounts.User"

REDIS_URL = env_str("REDIS_URL")
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "easydown.cache.SharedPoolRedisCache",
            "LOCATION": env_str("CACHE_REDIS_URL", REDIS_URL),
            "KEY_PREFIX": env_str("CACHE_KEY_PREFIX", "ed"),
            # A Redis that does not answer fails the request fast (503), instead of hanging it.
            "OPTIONS": {"socket_timeout": 2, "socket_connect_timeout": 1},
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    # django-ratelimit warns that a local-memory cache is not shared between processes; without
    # REDIS_URL there is exactly one process, so that is fine.
    SILENCED_SYSTEM_CHECKS = ["django_ratelimit.E003", "django_ratelimit.W001"]

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "dashboard"
LOGOUT_REDIRECT_URL = "login"
PASSWORD_RESET_TIMEOUT = env_int("DJANGO_PASSWORD_RESET_TIMEOUT", 3 * 60 * 60)
# Dashboard form posts per client IP (django-ratelimit rates: N/s, N/m, N/h, N/d).
RATE_LIMIT_LOGIN = env_str("EASYDOWN_RATE_LIMIT_LOGIN", "10/m")
RATE_LIMIT_SIGNUP = env_str("EASYDOWN_RATE_LIMIT_SIGNUP", "10/h")
RATE_LIMIT_PASSWORD_RESET = env_str("EASYDOWN_RATE_LIMIT_PASSWORD_RESET", "5/h")
SESSION_COOKIE_SECURE = env_bool("DJANGO_SECURE_COOKIES", False)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
# Behind nginx doing TLS (deploy/nginx.conf sets X-Forwarded-Proto from the connection it saw): requests
# that came in over HTTPS are known as such (absolute links, password-reset mails, secure redirects).
if env_bool("DJANGO_BEHIND_TLS_PROXY", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env_bool("DJANGO_SECURE_SSL_REDIRECT", False)
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$", r"^metrics$"]  # load balancers and scrapers on plain HTTP
SECURE_HSTS_SECONDS = env_int("DJANGO_SECURE_HSTS_SECONDS", 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("DJANGO_SECURE_HSTS_INCLUDE_SUBDOMAINS", False)
SECURE_HSTS_PRELOAD = env_bool("DJANGO_SECURE_HSTS_PRELOAD", False)

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = Path(env_str("STATIC_ROOT", str(BASE_DIR / "var" / "static")) or "")
STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # WhiteNoise warns on every start when it is missing
STATICFILES_DIRS = [BASE_DIR / "static"] if (BASE_DIR / "static").is_dir() else []
WHITENOISE_USE_FINDERS = True

EMAIL_BACKEND = env_str("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
EMAIL_HOST = env_str("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "Easydown <no-reply@easydown.local>")

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["accounts.authentication.ApiKeyAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "EXCEPTION_HANDLER": "easydown.exceptions.drf_exception_handler",
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "UNAUTHENTICATED_USER": None,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Easydown API",
    "VERSION": "1.0.0",
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "DESCRIPTION": "Turn public links from nine platforms into direct media URLs. One successful parse costs "
                   "one credit; every failure is free.",
    # The schema and its docs are public pages: no bearer key is needed to read them.
    "SERVE_AUTHENTICATION": [],
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
    # The parse endpoint is a plain async Django view; its contract is written out by hand.
    "PREPROCESSING_HOOKS": ["parsing.openapi.skip_hand_written"],
    "POSTPROCESSING_HOOKS": ["drf_spectacular.hooks.postprocess_schema_enums", "parsing.openapi.document_api"],
    "SWAGGER_UI_SETTINGS": {"deepLinking": True, "persistAuthorization": False, "tryItOutEnabled": False},
}

# JSON lines (with the request's id) unless LOG_FORMAT=plain; plain by default when DEBUG is on, for reading.
LOG_FORMAT = env_str("LOG_FORMAT", "plain" if DEBUG else "json")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": "easydown.requestid.RequestIdFilter"}},
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"},
                   "json": {"()": "easydown.requestid.JsonFormatter"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": LOG_FORMAT, "filters": ["request_id"]}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        # Celery's two lines per task ("received", "succeeded") at INFO cost the worker about 3% of its CPU at
        # a few hundred parses a second and say less than the parse's own line (parsing.services: the job, its
        # outcome and how long it took); EASYDOWN_TASK_LOG_LEVEL=INFO brings them back.
        "celery.app.trace": {"level": env_str("EASYDOWN_TASK_LOG_LEVEL", "WARNING")},
        "celery.worker.strategy": {"level": env_str("EASYDOWN_TASK_LOG_LEVEL", "WARNING")},
    },
}

# --- Parsing and billing ---------------------------------------------------------------------------

# Threads per API process that run the parse path's database work (each keeps one pooled connection).
API_DB_THREADS = env_int("EASYDOWN_API_DB_THREADS", 6)
# How long the API waits for a worker before answering 504 upstream_timeout.
PARSE_WAIT_TIMEOUT = env_float("EASYDOWN_PARSE_WAIT_TIMEOUT", 30.0)
PARSE_SOFT_TIME_LIMIT = env_int("EASYDOWN_PARSE_SOFT_TIME_LIMIT", 45)
PARSE_HARD_TIME_LIMIT = env_int("EASYDOWN_PARSE_HARD_TIME_LIMIT", 60)
# Backpressure (parsing/admission.py): a parse whose queue holds more than QUEUE_GRACE jobs and would not
# start within QUEUE_MAX_WAIT seconds gets 503 service_unavailable with Retry-After at once.
QUEUE_MAX_WAIT = env_float("EASYDOWN_QUEUE_MAX_WAIT", PARSE_WAIT_TIMEOUT / 2)
QUEUE_GRACE = env_int("EASYDOWN_QUEUE_GRACE", 20)
# GET /metrics (Prometheus) answers only with "Authorization: Bearer <this>"; unset, it does not exist.
EASYDOWN_METRICS_TOKEN = env_str("EASYDOWN_METRICS_TOKEN", "") or ""
# Platform -> Celery queue, so a slow or broken platform cannot starve the others (deploy/run-worker.sh serves
# the queues in CELERY_QUEUE, comma-separated). Unlisted platforms use CELERY_QUEUE's default queue. Example:
# '{"youtube": "video", "bilibili": "video", "tiktok": "short", "douyin": "short", "kuaishou": "short"}'.
EASYDOWN_QUEUES: dict[str, str] = env_json("EASYDOWN_QUEUES", {})
# Every worker process says it is alive this often (seconds); a queue silent for three beats has no worker.
WORKER_HEARTBEAT = env_float("EASYDOWN_WORKER_HEARTBEAT", 5.0)
# At most this many YouTube JavaScript challenges (a deno process each) run at once per worker process.
EASYDOWN_JS_SOLVERS = env_int("EASYDOWN_JS_SOLVERS", os.cpu_count() or 1)
# A task whose worker keeps dying is retried at most this many times in all.
PARSE_MAX_ATTEMPTS = env_int("EASYDOWN_PARSE_MAX_ATTEMPTS", 3)
# The customers' request log (parsing/requestlog.py) keeps this many days; beat prunes older entries.
EASYDOWN_REQUEST_LOG_DAYS = env_int("EASYDOWN_REQUEST_LOG_DAYS", 30)
# Free credits every new account starts with (through the ledger, once per account); 0: none.
EASYDOWN_SIGNUP_CREDITS = env_int("EASYDOWN_SIGNUP_CREDITS", 0)
# Default per-key limit (requests a minute) and the per-IP limit on failed authentications.
RATE_LIMIT_PER_KEY = env_int("EASYDOWN_RATE_LIMIT_PER_KEY", 60)
RATE_LIMIT_AUTH_FAILURES_PER_IP = env_int("EASYDOWN_RATE_LIMIT_AUTH_FAILURES_PER_IP", 30)
MAX_BODY_BYTES = 16 * 1024
# Seconds the API waits for each part of a request body before answering 408 request_timeout.
BODY_TIMEOUT = env_float("EASYDOWN_BODY_TIMEOUT", 10.0)
MAX_URL_CHARS = 4096

# Platform -> dotted path of the extractor class; operators override single entries.
EASYDOWN_EXTRACTORS: dict[str, str] = env_json("EASYDOWN_EXTRACTORS", {})
# Outbound HTTP policy per platform: {"tiktok": "http://proxy:3128"}; cookies: platform -> cookies.txt path.
EASYDOWN_PROXIES: dict[str, str] = env_json("EASYDOWN_PROXIES", {})
EASYDOWN_COOKIES: dict[str, str] = env_json("EASYDOWN_COOKIES", {})
# Networks outbound requests may reach although they are not public (an internal egress proxy; a test
# origin on loopback): comma-separated CIDRs, none by default.
EASYDOWN_OUTBOUND_ALLOW_NETWORKS: list[str] = [
    n.strip() for n in (env_str("EASYDOWN_OUTBOUND_ALLOW_NETWORKS", "") or "").split(",") if n.strip()]
EASYDOWN_CONNECT_TIMEOUT = env_float("EASYDOWN_CONNECT_TIMEOUT", 5.0)
EASYDOWN_READ_TIMEOUT = env_float("EASYDOWN_READ_TIMEOUT", 15.0)
# Result cache (parsing/resultcache.py): seconds a platform's result may be answered again from the cache,
# well inside the life of its media URLs (the README's table gives the reasons); 0 turns it off for one.
# EASYDOWN_RESULT_CACHE_TTL='{"tiktok": 600}' changes single platforms.
RESULT_CACHE_TTL_DEFAULTS = {
    "tiktok": 900, "douyin": 900, "kuaishou": 900, "weibo": 900, "xiaohongshu": 1800, "bilibili": 1800,
    "youtube": 3600, "instagram": 3600, "twitter": 3600,
    # NetEase's player answer says its track URL lives 1200 s (expi); Kugou's track URLs carry a signed
    # timestamp path of a similar life: both cached well inside that. AcFun's HLS links (pkey) and Migu's
    # file links last hours, like Bilibili's.
    "netease": 900, "kugou": 900, "acfun": 1800, "migu": 1800,
}
EASYDOWN_RESULT_CACHE_TTL: dict[str, int] = {**RESULT_CACHE_TTL_DEFAULTS, **env_json("EASYDOWN_RESULT_CACHE_TTL", {})}
# A "no media" outcome (private, deleted…) is remembered this many seconds; still free.
EASYDOWN_NEGATIVE_CACHE_TTL = env_int("EASYDOWN_NEGATIVE_CACHE_TTL", 60)
# The media tunnel (parsing/tunnel.py): GET /api/v1/media/<token> streams a result's media with the headers
# its CDN wants. Links live EASYDOWN_TUNNEL_TTL seconds; their base is EASYDOWN_PUBLIC_URL (for example
# https://api.example.com) or, unset, the scheme and Host of the parse request.
EASYDOWN_TUNNEL_TTL = env_int("EASYDOWN_TUNNEL_TTL", 3600)
EASYDOWN_PUBLIC_URL = env_str("EASYDOWN_PUBLIC_URL", "") or ""
# Extra CDN host suffixes per platform, added to the built-in allow-list: '{"tiktok": ["cdn.example.net"]}'.
EASYDOWN_MEDIA_HOSTS: dict[str, list[str]] = env_json("EASYDOWN_MEDIA_HOSTS", {})
# Concurrent tunnel downloads per API key; past it, 429 with Retry-After.
EASYDOWN_TUNNEL_STREAMS_PER_KEY = env_int("EASYDOWN_TUNNEL_STREAMS_PER_KEY", 50)
# The FFmpeg program that merges split DASH video and audio (default: the one the imageio-ffmpeg wheel ships).
EASYDOWN_FFMPEG = env_str("EASYDOWN_FFMPEG", "") or ""

# --- Celery ----------------------------------------------------------------------------------------

# The highest page POST /api/v1/collection accepts (pages of 50 items).
MAX_COLLECTION_PAGE = env_int("EASYDOWN_MAX_COLLECTION_PAGE", 1000)

CELERY_BROKER_URL = env_str("CELERY_BROKER_URL", REDIS_URL)
# No REDIS_URL: run tasks in-process (a laptop default; tests and production always use a worker).
CELERY_TASK_ALWAYS_EAGER = CELERY_BROKER_URL is None
# Redis through kombu's own transport, with one client per channel (easydown/broker.py says why).
if CELERY_BROKER_URL and CELERY_BROKER_URL.startswith("redis://"):
    CELERY_BROKER_TRANSPORT = "easydown.broker:Transport"
CELERY_TASK_EAGER_PROPAGATES = False
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SOFT_TIME_LIMIT = PARSE_SOFT_TIME_LIMIT
CELERY_TASK_TIME_LIMIT = PARSE_HARD_TIME_LIMIT
CELERY_WORKER_CANCEL_LONG_RUNNING_TASKS_ON_CONNECTION_LOSS = True
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# The API enqueues while its client waits: a broker that is down answers 503 in about a second, not later.
CELERY_BROKER_CONNECTION_TIMEOUT = 1.0
CELERY_TASK_PUBLISH_RETRY_POLICY = {"max_retries": 1, "interval_start": 0, "interval_step": 0.2, "interval_max": 0.2}
# An unacknowledged task comes back after the visibility timeout: keep it above the hard time limit
# but far below Redis' one-hour default, in every place Celery's Redis docs list.
_VISIBILITY = {"visibility_timeout": env_int("CELERY_VISIBILITY_TIMEOUT", 300)}
# No acknowledgement emulation on the broker: kombu would otherwise copy every task into a Redis hash and
# sorted set on delivery and delete it on acknowledgement (two MULTI transactions per parse, a sixth of the
# worker's CPU), only to redeliver a killed worker's tasks after the visibility timeout: minutes after their
# clients were answered 504 and their credits released (the API's wait decides, not the broker). Tasks a
# worker holds are still put back when it stops cleanly, and a prefork child's task when the child dies
# (reject_on_worker_lost). CELERY_ACK_EMULATION=1 turns it back on.
CELERY_BROKER_TRANSPORT_OPTIONS = {**_VISIBILITY, "ack_emulation": env_bool("CELERY_ACK_EMULATION", False)}
CELERY_RESULT_BACKEND_TRANSPORT_OPTIONS = _VISIBILITY
# CELERY_QUEUE: the queue(s) a worker serves, comma-separated; the first is where platforms that
# EASYDOWN_QUEUES does not route go.
CELERY_TASK_DEFAULT_QUEUE = (env_str("CELERY_QUEUE", "easydown") or "easydown").split(",")[0].strip()
# The sweeper (beat, every SWEEP_EVERY seconds) releases the holds of jobs still open SWEEP_MARGIN seconds
# after their client stopped waiting, and of jobs whose API process died (below).
SWEEP_MARGIN = env_float("EASYDOWN_SWEEP_MARGIN", 20.0)
SWEEP_EVERY = env_float("EASYDOWN_SWEEP_EVERY", 5.0)
# Each API process renews a lease every OWNER_LEASE_BEAT seconds, lasting OWNER_LEASE_TTL; a lease the
# sweeper finds missing twice, OWNER_DEAD_AFTER seconds apart, means its process died, and the holds of the
# jobs it was waiting on are released (parsing.owners).
OWNER_LEASE_BEAT = env_float("EASYDOWN_OWNER_LEASE_BEAT", 1.0)
OWNER_LEASE_TTL = env_float("EASYDOWN_OWNER_LEASE_TTL", 5.0)
OWNER_DEAD_AFTER = env_float("EASYDOWN_OWNER_DEAD_AFTER", 2.0)
# A parse request that failed on the database (503) releases its job's credit in the background, retrying
# once a second for this long while the database is away.
RELEASE_RETRY_FOR = env_float("EASYDOWN_RELEASE_RETRY_FOR", 60.0)
# The parse path gives the database this long to answer each of its two steps (submit, settle) before it
# answers 503: a frozen database must not hold the client (parsing.api).
DB_ANSWER_TIMEOUT = env_float("EASYDOWN_DB_ANSWER_TIMEOUT", 1.5)
# A pool that is full and busy (a burst, not an outage) is waited on this long by the hot statements.
DB_BUSY_WAIT = env_float("EASYDOWN_DB_BUSY_WAIT", 10.0)
# How long an Idempotency-Key's answer is kept for replays (parsing.idempotency).
IDEMPOTENCY_TTL = env_float("EASYDOWN_IDEMPOTENCY_TTL", 24 * 3600.0)
CELERY_BEAT_SCHEDULE = {
    "release-stale-holds": {
        "task": "parsing.tasks.sweep_stale_jobs",
        "schedule": SWEEP_EVERY,
    },
    "prune-request-log": {
        "task": "parsing.tasks.prune_request_log",
        "schedule": 3600.0,
    },
}
