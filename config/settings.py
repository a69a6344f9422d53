"""Settings for every environment, read from environment variables.

With nothing set, the project runs embedded: SQLite in WAL mode and kombu's server-less filesystem
broker under ``var/``. ``DATABASE_URL`` and ``REDIS_URL`` switch to PostgreSQL and Redis.
"""

import contextlib
import os
import secrets
from datetime import timedelta
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

from config import formats

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("THIDUA_VAR_DIR", BASE_DIR / "var")).resolve()


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str) -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


def env_int(name: str, default: int) -> int:
    return int(os.environ.get(name, default))


def _private_folder(path: Path) -> Path:
    """Create ``path`` readable by this account only (0700); a folder that exists keeps its mode."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with contextlib.suppress(FileExistsError):
        path.mkdir(mode=0o700)
    return path


def _private_file(path: Path) -> None:
    """Create ``path`` empty and readable by this account only (0600), unless it exists."""
    with contextlib.suppress(FileExistsError):
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))


def _embedded_secret(name: str) -> str:
    """A per-installation key kept under var/ (created once, 0600), so the embedded run needs no
    configuration and no secret ever lives in the repository."""
    path = VAR_DIR / name
    if not path.exists():
        _private_folder(VAR_DIR)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_urlsafe(50))
    return path.read_text().strip()


# Production mode (THIDUA_PRODUCTION=true): several nodes share one database and one broker, so every
# key comes from the environment (a key made under one node's var/ would differ on the next), debug is
# refused, the demo data is off, static files are served hashed and compressed by WhiteNoise from
# `collectstatic`'s output, and logs are JSON lines. Without it, the embedded run (`make run`, tests).
PRODUCTION = env_bool("THIDUA_PRODUCTION")
if PRODUCTION:
    _missing = [
        name
        for name in ("DJANGO_SECRET_KEY", "THIDUA_BALLOT_KEY", "THIDUA_AUDIT_KEY", "DATABASE_URL", "REDIS_URL")
        if not os.environ.get(name)
    ]
    if _missing:
        raise ImproperlyConfigured(f"THIDUA_PRODUCTION=true needs these environment variables: {', '.join(_missing)}")
    if env_bool("DJANGO_DEBUG"):
        raise ImproperlyConfigured("THIDUA_PRODUCTION=true refuses DJANGO_DEBUG=true")

SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY") or _embedded_secret("secret_key")
DEBUG = env_bool("DJANGO_DEBUG")
ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", "127.0.0.1,localhost")
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS", "")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    # Production collects static files (config/staticfiles.py leaves viewflow's unused font stylesheet out);
    # elsewhere the plain app, which the test live server looks for by this name to serve them.
    "config.staticfiles.StaticFiles" if PRODUCTION else "django.contrib.staticfiles",
    "django_celery_beat",
    "axes",
    "workflow",
    "processes",
    "notifications",
    "django_filters",
    # The REST API (processes/api, notifications/api.py): DRF, hashed revocable tokens, the OpenAPI schema
    # and its interactive page with assets installed from PyPI (no CDN).
    "rest_framework",
    "knox",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    # After ours, so our templates (the log-in page) win over viewflow's; its screens are not mounted.
    "viewflow",
    "viewflow.workflow",
]

MIDDLEWARE = [
    # First: the latency it measures includes every other middleware (notifications/metrics.py).
    "notifications.metrics.RequestMetricsMiddleware",
    # Next: every later middleware's and view's log lines, and the tasks they enqueue, carry the id.
    "config.request_id.RequestIdMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "processes.middleware.ChosenLanguageMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "processes.middleware.SecurityHeadersMiddleware",
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last: turns a refused log-in into the lockout page (processes/login_throttle.py).
    "axes.middleware.AxesMiddleware",
]
if PRODUCTION:
    # Static files straight from collectstatic's output (hashed names, cached for ever, gzip), before
    # sessions and the rest: the embedded run's runserver --insecure serves them from the apps instead.
    MIDDLEWARE.insert(
        MIDDLEWARE.index("django.middleware.security.SecurityMiddleware") + 1,
        "whitenoise.middleware.WhiteNoiseMiddleware",
    )

ROOT_URLCONF = "config.urls"

# The approval engine (workflow/) asks the award domain who holds a step through this adapter.
WORKFLOW_SUBJECT = "processes.chains.NominationSubject"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.i18n",
                "notifications.context_processors.unread",
                "processes.context_processors.my_work",
            ],
        },
    },
]
# Django forms draw each field through the product's field template: required fields are marked.
FORM_RENDERER = "processes.form_rendering.FormRenderer"

# --- database -----------------------------------------------------------------------------------
# Web, worker and beat share one SQLite file in the embedded run: WAL lets readers go on while one
# writer works, and IMMEDIATE transactions take the write lock up front instead of failing with
# "database is locked" when a read transaction later tries to write.
SQLITE_OPTIONS = {
    "transaction_mode": "IMMEDIATE",
    "timeout": 20,
    # Prepared statements kept per connection. Each savepoint has a name of its own, so with the
    # default 128 they push the real queries out and every query is parsed again: seeding the demo
    # spent a third more time in SQLite with the default.
    "cached_statements": 1024,
    "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;",
}
if os.environ.get("DATABASE_URL"):
    # Persistent connections (each web thread and worker keeps its own for this many seconds; 0 closes
    # it after every request), checked before reuse so a restarted database costs no failed request.
    DATABASES = {
        "default": dj_database_url.parse(
            os.environ["DATABASE_URL"],
            conn_max_age=env_int("DATABASE_CONN_MAX_AGE", 60),
            conn_health_checks=True,
        )
    }
else:
    # SQLite would create the file 0644, and its -wal and -shm files take the file's mode: it is made
    # here first, empty (an empty file is an empty database) and private.
    _private_file(_private_folder(VAR_DIR) / "db.sqlite3")
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": VAR_DIR / "db.sqlite3",
            "OPTIONS": SQLITE_OPTIONS,
            "TEST": {"NAME": VAR_DIR / "test-db.sqlite3"},
        }
    }
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"].setdefault("OPTIONS", {}).update(SQLITE_OPTIONS)
# How long a write waits for a row another one holds (two people deciding one case) before it gives up
# with a clear message: set once per connection, not in every transaction.
DATABASE_LOCK_TIMEOUT_MS = env_int("DATABASE_LOCK_TIMEOUT_MS", 5000)
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    _options = DATABASES["default"].setdefault("OPTIONS", {})
    _options["options"] = f"{_options.get('options', '')} -c lock_timeout={DATABASE_LOCK_TIMEOUT_MS}".strip()
    # Parameters bound by the server, and a query sent five times on a connection prepared there:
    # PostgreSQL then stops planning it again (planning the inbox's joins took 8 ms, running them
    # 0.4 ms). Off (DATABASE_PREPARED_STATEMENTS=false) behind a pooler in transaction mode, which
    # cannot keep prepared statements.
    _prepared = env_bool("DATABASE_PREPARED_STATEMENTS", default=True)
    _options.setdefault("server_side_binding", _prepared)
    _options.setdefault("prepare_threshold", 5 if _prepared else None)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
# How long another process may keep a day's organisation tree after a unit or parent link changed
# (this process forgets it at once); the working calendar's overrides likewise.
ORGANISATION_CACHE_SECONDS = env_int("ORGANISATION_CACHE_SECONDS", 60)

# --- authentication -------------------------------------------------------------------------------
AUTHENTICATION_BACKENDS = [
    # First: refuses a locked account or address before any password is checked (processes/login_throttle.py).
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "processes.passwords.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "processes:my-work"
LOGOUT_REDIRECT_URL = "login"

# Log-in throttling (django-axes, counted in the database). An office shares one NAT address: a typo
# followed by a successful log-in clears that account's failures, so the address counts only failures
# nobody resolved, and its limit is several times the account's.
LOGIN_ACCOUNT_FAILURE_LIMIT = env_int("LOGIN_ACCOUNT_FAILURE_LIMIT", 10)
LOGIN_ADDRESS_FAILURE_LIMIT = env_int("LOGIN_ADDRESS_FAILURE_LIMIT", 50)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("LOGIN_LOCKOUT_MINUTES", 15))
AXES_HANDLER = "processes.login_throttle.LoginThrottle"
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
# LoginThrottle.get_failures counts the parameters over their own limit: one is enough to lock.
AXES_FAILURE_LIMIT = 1
AXES_RESET_ON_SUCCESS = False  # LoginThrottle clears the account's failures only
# Attempts while locked are refused without being counted, so the time the lockout page names holds.
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
AXES_LOCKOUT_CALLABLE = "processes.login_throttle.lockout_response"
AXES_CLIENT_IP_CALLABLE = "processes.network.client_address"

# A session ends after this long without a request: saving it on every request moves its expiry on
# (one UPDATE of the session row per signed-in request, the price of an idle timeout).
SESSION_COOKIE_AGE = env_int("SESSION_IDLE_MINUTES", 30) * 60
SESSION_SAVE_EVERY_REQUEST = True

# --- language and time --------------------------------------------------------------------------
LANGUAGE_CODE = "vi"
LANGUAGES = [("vi", _("Vietnamese")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Ho_Chi_Minh"
USE_I18N = True
USE_TZ = True
# Dates typed and shown day first in every language (05/12/2026 is 5 December); the same lists
# serve where no language is active.
FORMAT_MODULE_PATH = ["config.formats"]
DATE_INPUT_FORMATS = formats.DATE_INPUT_FORMATS
DATETIME_INPUT_FORMATS = formats.DATETIME_INPUT_FORMATS
DATE_FORMAT = formats.DATE_FORMAT
SHORT_DATE_FORMAT = formats.SHORT_DATE_FORMAT
DATETIME_FORMAT = formats.DATETIME_FORMAT
SHORT_DATETIME_FORMAT = formats.SHORT_DATETIME_FORMAT
FIRST_DAY_OF_WEEK = formats.FIRST_DAY_OF_WEEK

STATIC_URL = "static/"
# `manage.py collectstatic` writes here; production serves it through WhiteNoise.
STATIC_ROOT = Path(os.environ.get("STATIC_ROOT", VAR_DIR / "static")).resolve()
if PRODUCTION:
    # Hashed file names (cached for ever by browsers and the load balancer) and compressed copies,
    # both made by collectstatic at deploy; a page naming a file collectstatic did not see fails.
    STORAGES = {
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
        "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
    }

# --- dossier files --------------------------------------------------------------------------------
# Stored outside any web root; served only through the permission-checked download view.
DOSSIER_ROOT = Path(os.environ.get("DOSSIER_ROOT", VAR_DIR / "dossiers")).resolve()
# The case tracker's exports: up to this many rows are written in the request, more by a Celery task
# into EXPORT_ROOT (the file is served only to the user who asked for it).
EXPORT_STREAM_MAX_ROWS = int(os.environ.get("EXPORT_STREAM_MAX_ROWS", "2000"))
EXPORT_ROOT = Path(os.environ.get("EXPORT_ROOT", VAR_DIR / "exports")).resolve()
DOSSIER_MAX_UPLOAD_BYTES = int(float(os.environ.get("DOSSIER_MAX_UPLOAD_MB", "20")) * 1024 * 1024)
# Django refuses larger bodies before a view sees them; leave room for the form around the file.
DATA_UPLOAD_MAX_MEMORY_SIZE = 2_621_440
FILE_UPLOAD_MAX_MEMORY_SIZE = 2_621_440
# Stored files and the folders made for them are the application account's alone.
FILE_UPLOAD_PERMISSIONS = 0o600
FILE_UPLOAD_DIRECTORY_PERMISSIONS = 0o700

# --- council ballots -------------------------------------------------------------------------------
# A cast ballot stays sealed (AES-GCM) until its session's tally; the key must never be stored in the
# database. Production sets it in the environment of the web and worker processes only (any long
# random string); the embedded run keeps one under var/. Changing it while a session is open makes
# that session's sealed ballots unreadable: change it between sessions.
BALLOT_SEAL_KEY = os.environ.get("THIDUA_BALLOT_KEY") or _embedded_secret("ballot_key")

# --- public pages ---------------------------------------------------------------------------------
# Readable without log-in, each only when turned on: the nominees in their public posting window, with
# a form to object (it reaches the Board's case), and the lookup of awards granted.
PUBLIC_POSTING_PAGE = env_bool("PUBLIC_POSTING_PAGE")
PUBLIC_AWARDS_LOOKUP = env_bool("PUBLIC_AWARDS_LOOKUP")
# The lookup lists decisions signed from this year on (0: all).
PUBLIC_AWARDS_FROM_YEAR = env_int("PUBLIC_AWARDS_FROM_YEAR", 0)
# Requests to the public pages per client address ("30/m": 30 a minute), and objections sent.
PUBLIC_RATE_LIMIT = os.environ.get("PUBLIC_RATE_LIMIT", "30/m")
PUBLIC_OBJECTION_RATE_LIMIT = os.environ.get("PUBLIC_OBJECTION_RATE_LIMIT", "5/h")
# The rate limits count in a database table every web process shares (`manage.py createcachetable`
# makes it; the test runner too); everything else keeps the per-process memory cache.
CACHES = {
    "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
    "ratelimit": {"BACKEND": "processes.rate_cache.CountingDatabaseCache", "LOCATION": "thidua_rate_counts"},
}
RATELIMIT_USE_CACHE = "ratelimit"

# --- demo data ----------------------------------------------------------------------------------
# ``manage.py seed_demo`` creates accounts with a published password; production sets this false.
THIDUA_DEMO_DATA = env_bool("THIDUA_DEMO_DATA", default=not PRODUCTION)

# --- audit log ------------------------------------------------------------------------------------
# The key of the audit log's HMACs and of its checkpoints. Kept out of the database (and away from its
# backups), so whoever can write the database still cannot forge an entry or a checkpoint.
AUDIT_KEY = os.environ.get("THIDUA_AUDIT_KEY") or _embedded_secret("audit_key")
# Signed checkpoints of every chain head, written outside the database (beat, every 5 minutes, when
# something changed); best on storage the database's administrators cannot write.
AUDIT_CHECKPOINT_DIR = Path(os.environ.get("AUDIT_CHECKPOINT_DIR", VAR_DIR / "audit-checkpoints")).resolve()
# A full checkpoint (every chain) at most this often; in between, only the heads that moved.
AUDIT_CHECKPOINT_FULL_HOURS = float(os.environ.get("AUDIT_CHECKPOINT_FULL_HOURS", "24"))
# Checkpoints older than this are deleted, except the latest full one and those after it.
AUDIT_CHECKPOINT_RETENTION_DAYS = float(os.environ.get("AUDIT_CHECKPOINT_RETENTION_DAYS", "30"))

# --- backups --------------------------------------------------------------------------------------
# `manage.py backup` (make backup) writes its archives here: the database, the dossiers, the checkpoints.
BACKUP_DIR = Path(os.environ.get("BACKUP_DIR", VAR_DIR / "backups")).resolve()

# --- Celery ---------------------------------------------------------------------------------------
REDIS_URL = os.environ.get("REDIS_URL", "")
CELERY_TIMEZONE = TIME_ZONE
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# No task may hold the single worker for ever (a hung server): killed after 4 minutes.
CELERY_TASK_SOFT_TIME_LIMIT = 200
CELERY_TASK_TIME_LIMIT = 240
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
# Beat would overwrite admin-edited rows from this at every start: periodic tasks are data.
CELERY_BEAT_SCHEDULE: dict = {}
if REDIS_URL:
    CELERY_BROKER_URL = REDIS_URL
    CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600, "socket_timeout": 2}
    CELERY_BROKER_CONNECTION_TIMEOUT = 2
else:
    _broker_dir = VAR_DIR / "broker"
    CELERY_BROKER_URL = "filesystem://"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_broker_dir / "queue"),
        "data_folder_out": str(_broker_dir / "queue"),
        "control_folder": str(_broker_dir / "control"),
    }
    # Celery's worker loop for this transport waits up to 2 s between fetches once its prefetch is
    # used up, so one message at a time would deliver one notification per 2 s (the demo's 1,700
    # first ones in an hour). The transport deletes what it hands out anyway (acks_late does not
    # apply here): what a killed worker had taken is republished by the sweeper.
    CELERY_WORKER_PREFETCH_MULTIPLIER = 64
    # Any process may publish (a shell, a management command), not only those `make run` starts.
    for _folder in (VAR_DIR, _broker_dir, _broker_dir / "queue", _broker_dir / "control"):
        _private_folder(_folder)
CELERY_TASK_IGNORE_RESULT = True

# --- health and metrics ---------------------------------------------------------------------------
# /health/ready fails when beat's or a worker's heartbeat (every 30 s) is older than this, or when the
# oldest outbox row due for sending has waited longer than this (seconds).
HEALTH_HEARTBEAT_MAX_AGE = env_int("HEALTH_HEARTBEAT_MAX_AGE", 300)
HEALTH_OUTBOX_MAX_AGE = env_int("HEALTH_OUTBOX_MAX_AGE", 900)
# /metrics answers a scraper that sends "Authorization: Bearer <METRICS_TOKEN>" or whose address is in
# one of these networks (CIDRs; the address as TRUSTED_PROXIES makes it). Neither set: 404.
METRICS_TOKEN = os.environ.get("METRICS_TOKEN", "")
METRICS_ALLOWED_NETWORKS = env_list("METRICS_ALLOWED_NETWORKS", "")

# --- email ----------------------------------------------------------------------------------------
# With no SMTP server named, the embedded run writes each email as a file under var/mail/.
EMAIL_BACKEND = os.environ.get(
    "EMAIL_BACKEND",
    "django.core.mail.backends.smtp.EmailBackend"
    if os.environ.get("EMAIL_HOST")
    else "django.core.mail.backends.filebased.EmailBackend",
)
EMAIL_FILE_PATH = VAR_DIR / "mail"
if EMAIL_BACKEND == "django.core.mail.backends.filebased.EmailBackend":
    # The backend would make the folder readable by all; the messages hold password-reset links.
    _private_folder(_private_folder(VAR_DIR) / "mail")
# A hung mail server must fail a send well within the outbox's lease (NOTIFICATION_LEASE_SECONDS).
EMAIL_TIMEOUT = int(os.environ.get("EMAIL_TIMEOUT", "30"))
EMAIL_HOST = os.environ.get("EMAIL_HOST", "localhost")
EMAIL_PORT = int(os.environ.get("EMAIL_PORT", "25"))
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS")
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "thidua@localhost")
# Outgoing notifications: the host part of each email's stable Message-ID <outbox-{id}@{host}>.
NOTIFICATION_MESSAGE_ID_HOST = os.environ.get("NOTIFICATION_MESSAGE_ID_HOST", "thidua.localhost")
# How long a worker holds a notification it claimed (and a published one may wait unclaimed) before the
# sweeper hands it out again: the delay a worker killed mid-send costs its rows. Well above EMAIL_TIMEOUT.
NOTIFICATION_LEASE_SECONDS = env_int("NOTIFICATION_LEASE_SECONDS", 300)
# Links in emails start with this address.
NOTIFICATION_SITE_URL = os.environ.get("NOTIFICATION_SITE_URL", "http://127.0.0.1:8000")
# Reminders and escalations go out on working days from this local hour; digests at this one.
NOTIFICATION_HOUR = int(os.environ.get("NOTIFICATION_HOUR", "8"))
NOTIFICATION_DIGEST_HOUR = int(os.environ.get("NOTIFICATION_DIGEST_HOUR", "16"))
# An overdue step is escalated again every this many working days.
NOTIFICATION_ESCALATION_EVERY = int(os.environ.get("NOTIFICATION_ESCALATION_EVERY", "2"))
# Units that have not submitted to a campaign are told this many working days before its deadline
# (and on its last working day).
NOTIFICATION_CAMPAIGN_OFFSETS = [int(n) for n in env_list("NOTIFICATION_CAMPAIGN_OFFSETS", "10,5,1")]

# --- security -------------------------------------------------------------------------------------
# Every default keeps the embedded run (http on 127.0.0.1) working; README's "production environment"
# block turns on what a site served over HTTPS needs, and `check --deploy` then has nothing to say.
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SECURE = env_bool("DJANGO_SECURE_COOKIES")
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
X_FRAME_OPTIONS = "DENY"
SECURE_SSL_REDIRECT = env_bool("DJANGO_SECURE_SSL_REDIRECT")
# A load balancer probes each node over plain HTTP: its health checks are not sent to https.
SECURE_REDIRECT_EXEMPT = [r"^health/(live|ready)$"]
SECURE_HSTS_SECONDS = env_int("DJANGO_SECURE_HSTS_SECONDS", 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("DJANGO_SECURE_HSTS_INCLUDE_SUBDOMAINS")
SECURE_HSTS_PRELOAD = env_bool("DJANGO_SECURE_HSTS_PRELOAD")
# Reverse proxies in front of the application, each appending to X-Forwarded-For and setting
# X-Forwarded-Proto. 0: none, and both headers are the client's own claims, ignored.
TRUSTED_PROXIES = env_int("TRUSTED_PROXIES", 0)
if TRUSTED_PROXIES > 0:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# No page needs inline script or style, another site's resources, or to be framed.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'none'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    },
}
# Browser features no page uses, refused to the site and anything it might embed.
PERMISSIONS_POLICY = ", ".join(
    f"{feature}=()"
    for feature in (
        "accelerometer",
        "camera",
        "display-capture",
        "geolocation",
        "gyroscope",
        "magnetometer",
        "microphone",
        "payment",
        "usb",
    )
)

# Plain lines for a person at a terminal; JSON lines (timestamp, level, logger, message, request_id and
# the exception's traceback) for a log collector. Every line carries the id of the request it belongs
# to, also in the Celery tasks that request enqueued (config/request_id.py).
LOG_FORMAT = os.environ.get("LOG_FORMAT", "json" if PRODUCTION else "plain")
if LOG_FORMAT not in {"json", "plain"}:
    raise ImproperlyConfigured(f"LOG_FORMAT must be json or plain, not {LOG_FORMAT!r}")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    # Outside a request or a task: "-" in plain lines, null in JSON.
    "filters": {
        "request_id_plain": {"()": "config.request_id.RequestIdFilter", "missing": "-"},
        "request_id_json": {"()": "config.request_id.RequestIdFilter", "missing": None},
    },
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s]: %(message)s"},
        "json": {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "fmt": "%(levelname)s %(name)s %(message)s %(request_id)s",
            "rename_fields": {"levelname": "level", "name": "logger"},
            # ISO 8601 in UTC, from the record's own time.
            "timestamp": True,
        },
    },
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": LOG_FORMAT, "filters": [f"request_id_{LOG_FORMAT}"]},
    },
    "root": {"handlers": ["console"], "level": os.environ.get("DJANGO_LOG_LEVEL", "INFO")},
    # django-axes reports each failed log-in as a warning; its INFO lines (every check, every clean-up)
    # would flood the console.
    "loggers": {"axes": {"level": "WARNING"}},
}
# JSON logs: workers and beat keep Django's LOGGING (its handler, the request id) rather than Celery's
# own format, which `make run` reads.
CELERY_WORKER_HIJACK_ROOT_LOGGER = LOG_FORMAT != "json"

# Award decisions the product numbers: the symbol after the number when the issuing unit has none of
# its own, and how long a signer waits in line for the issuer's next number (signers of one issuer
# take numbers one after the other) before being told to try again.
DECISION_SYMBOL_DEFAULT = os.environ.get("DECISION_SYMBOL_DEFAULT", "QĐ-UBND")
DECISION_NUMBER_LOCK_TIMEOUT_MS = env_int("DECISION_NUMBER_LOCK_TIMEOUT_MS", 60000)

# --- REST API (/api/v1/) ----------------------------------------------------------------------------
# Session (the screens' log-in) or a token: ``Authorization: Token <key>``. Tokens are django-rest-knox's:
# stored as SHA-512 digests, several per user, each revocable by its user and by administrators.
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "knox.auth.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": [
        "rest_framework.parsers.JSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_PAGINATION_CLASS": "processes.api.pagination.CursorPage",
    "PAGE_SIZE": env_int("API_PAGE_SIZE", 50),
    "DEFAULT_SCHEMA_CLASS": "processes.api.schema.AutoSchema",
    "EXCEPTION_HANDLER": "processes.api.errors.exception_handler",
    "DEFAULT_THROTTLE_CLASSES": [
        "processes.api.throttles.UserRate",
        "processes.api.throttles.AnonymousRate",
    ],
    # Counted in the database cache the public pages use (every web process shares it), not in Redis.
    "DEFAULT_THROTTLE_RATES": {
        "user": os.environ.get("API_RATE_USER", "600/min"),
        "anon": os.environ.get("API_RATE_ANONYMOUS", "60/min"),
        "token": os.environ.get("API_RATE_TOKEN_LOGIN", "10/min"),
    },
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}
REST_KNOX = {
    "TOKEN_TTL": timedelta(days=env_int("API_TOKEN_DAYS", 90)),
    "TOKEN_PREFIX": "thidua_",
    "AUTH_HEADER_PREFIX": "Token",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Thi đua - Khen thưởng API",
    "DESCRIPTION": (
        "Nominations for emulation and commendation awards and their approval chains. The same services "
        "and the same permission rules as the screens: a user sees and acts on what the organisation tree "
        "grants them. Lists are paged by an opaque cursor (`next`, `previous`)."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "SCHEMA_PATH_PREFIX": "/api/v1",
    # Several models have a "kind": each its own enum, by name.
    "ENUM_NAME_OVERRIDES": {
        "NomineeKindEnum": "processes.choices.NomineeKind",
        "UnitKindEnum": "processes.choices.UnitKind",
        "WorkItemKindEnum": "processes.selectors.my_work.Kind",
    },
    # ``<id:…>`` (processes.converters): an integer id of 1 to 18 digits.
    "PATH_CONVERTER_OVERRIDES": {"id": {"type": "integer", "minimum": 1, "maximum": 999_999_999_999_999_999}},
}
