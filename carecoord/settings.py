"""Settings, driven by environment variables (see README "Configuration").

The embedded default (no variables set) is SQLite, eager tasks and console email, for a
laptop demo. Production sets DEBUG=false, SECRET_KEY, ALLOWED_HOSTS, DATABASE_URL and
CELERY_BROKER_URL.
"""

import os
from datetime import timedelta
from pathlib import Path

import dj_database_url
from celery.schedules import crontab
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name: str, *, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, *, default: str = "") -> list[str]:
    return [part.strip() for part in os.environ.get(name, default).split(",") if part.strip()]


def env_int(name: str, *, default: int) -> int:
    value = os.environ.get(name)
    return int(value) if value else default


DEBUG = env_bool("DEBUG", default=True)
# The laptop demo (scripts/demo.sh) runs with DEBUG off, so nobody meets Django's technical
# pages, but over plain http on this machine: DEMO relaxes only what that needs (no
# HTTPS redirect or HSTS, cookies without Secure/__Host-, loopback host names, static
# files straight from the source folders). `check --deploy` still objects to it.
DEMO = env_bool("DEMO", default=False)

SECRET_KEY = os.environ.get("SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off.")
    # Only for the local demo: never used once DEBUG is off (see above).
    SECRET_KEY = "insecure-local-demo-key-do-not-use-in-production-0123456789abcdef"

LOOPBACK_HOSTS = "localhost,127.0.0.1,[::1]"
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", default=LOOPBACK_HOSTS if DEBUG or DEMO else "")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "django.forms",
    # The admin site asks for a verified second factor (carecoord/twofa/admin_site.py).
    "carecoord.twofa.admin_site.CareAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "knox",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "guardian",
    "axes",
    "csp",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "carecoord",
    "consent",
    "carers",
    "plans",
    "peersupport",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Outside everything but the static files, so it marks every answer (axes' lock-out
    # page and error pages included): nothing with personal data is cached.
    "carecoord.web.cache_control.NoStoreMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # Ends a session 12 hours after signing in, however active (beside the idle timeout).
    "carecoord.records.sessions.SessionLifetimeMiddleware",
    # request.user.is_verified(): has this session passed the second factor?
    "django_otp.middleware.OTPMiddleware",
    # Staff (and anyone who set up a second factor) reach nothing else until they pass it.
    "carecoord.twofa.middleware.SecondFactorMiddleware",
    "carecoord.audit.request_context.RequestContextMiddleware",
    # The address this request reached, for the links in emails it causes.
    "carecoord.web.site_url.SiteUrlMiddleware",
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    # Last, as django-axes asks: it turns a locked-out sign-in into the lock-out page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "carecoord.urls"
WSGI_APPLICATION = "carecoord.wsgi.application"

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
                "carecoord.context_processors.navigation",
                "carecoord.context_processors.break_glass",
            ],
            # carecoord.reporting and carecoord.records are packages, not apps: their tag
            # libraries are named here.
            "libraries": {"reporting_tags": "carecoord.reporting.templatetags.reporting_tags",
                          "records_tags": "carecoord.records.templatetags.records_tags"},
        },
    },
]
FORM_RENDERER = "carecoord.web.forms_rendering.NHSUKFormRenderer"

DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL", f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
        conn_max_age=env_int("DB_CONN_MAX_AGE", default=60),
        conn_health_checks=True,
    )
}
# A read-only copy (PostgreSQL streaming replication) for the managers' reports and their
# CSV and PDF exports, when one is given: the long reads of the audit trail then leave the
# primary alone. Nothing is ever written or migrated there (carecoord/web/db_routing.py).
if os.environ.get("DATABASE_REPLICA_URL"):
    DATABASES["replica"] = dj_database_url.parse(
        os.environ["DATABASE_REPLICA_URL"],
        conn_max_age=env_int("DB_CONN_MAX_AGE", default=60),
        conn_health_checks=True,
    )
    DATABASES["replica"]["TEST"] = {"MIRROR": "default"}
DATABASE_ROUTERS = ["carecoord.web.db_routing.ReplicaRouter"]
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # The demo's web server and its Celery worker share the file: wait for the other's
    # write instead of failing with "database is locked", take the write lock when a
    # transaction starts (a read upgraded to a write mid-transaction cannot wait), and
    # let readers read while a write is under way (WAL).
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 20,
        "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
for _database in DATABASES.values():
    if _database["ENGINE"] == "django.db.backends.postgresql":
        # No JIT compilation. The access policy's predicates (an OR of correlated EXISTS
        # subqueries) make the planner cost a query that reads a few hundred rows in
        # 5 ms at hundreds of thousands, above jit_above_cost, and compiling it then
        # takes 200 ms or more on every request (issue 15: the consent page, the header's
        # things to do). Our reads are short and indexed; JIT never pays for itself here.
        _options = _database.setdefault("OPTIONS", {})
        _options["options"] = f"{_options.get('options', '')} -c jit=off".strip()
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
# The cache keeps what is worked out from the records for a short while (the things to do,
# ADR 0029) with the generations that say when it is out of date. Several web processes
# must share one (CACHE_URL=redis://...): each process's own memory would not hear of the
# others' writes. One process (the demo's runserver, the benchmark) keeps it in memory.
if os.environ.get("CACHE_URL", "").startswith(("redis://", "rediss://")):
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache",
                          "LOCATION": os.environ["CACHE_URL"], "KEY_PREFIX": "carecoord"}}
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache",
                          "OPTIONS": {"MAX_ENTRIES": 100_000}}}

AUTH_USER_MODEL = "carecoord.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
# No guardian.backends.ObjectPermissionBackend: with it, `user.has_perm(perm, item)` would
# answer yes anywhere in the code from the raw grant table, ignoring expiry and ended
# relationships. The only answer to "may they see it?" is consent.policy (ADR 0003).
SILENCED_SYSTEM_CHECKS = ["guardian.W001"]  # "guardian's backend is not hooked": on purpose
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
PASSWORD_RESET_TIMEOUT = 60 * 60 * 2

# Sessions end after this much inactivity: a request pushes the expiry forward, at most
# once a SESSION_TOUCH_SECONDS (carecoord/records/sessions.py), so that reading pages does
# not write the session row on every request.
SESSION_IDLE_MINUTES = env_int("SESSION_IDLE_MINUTES", default=30)
SESSION_COOKIE_AGE = SESSION_IDLE_MINUTES * 60
SESSION_SAVE_EVERY_REQUEST = False
SESSION_TOUCH_SECONDS = 60
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
# ... and this long after signing in, however active (carecoord/records/sessions.py).
SESSION_ABSOLUTE_HOURS = env_int("SESSION_ABSOLUTE_HOURS", default=12)

# Two-factor sign-in (django-otp, ADR 0011): the issuer name authenticator apps show.
OTP_TOTP_ISSUER = os.environ.get("OTP_TOTP_ISSUER", "Care coordination")
# A code typed after the password must come within this many minutes.
TWOFA_PENDING_MINUTES = 5

# How many proxies of ours stand in front of the app, each appending to X-Forwarded-For:
# the audit trail records the address that many hops from the right (0: REMOTE_ADDR only).
TRUSTED_PROXY_COUNT = env_int("TRUSTED_PROXY_COUNT", default=0)
if TRUSTED_PROXY_COUNT < 0:
    raise ImproperlyConfigured("TRUSTED_PROXY_COUNT must be 0 or more.")
INVITATION_VALID_DAYS = env_int("INVITATION_VALID_DAYS", default=7)
# Emergency (break-glass) access to a crisis plan lasts this many hours; a reason must be
# at least this many characters long.
BREAK_GLASS_HOURS = env_int("BREAK_GLASS_HOURS", default=4)
BREAK_GLASS_REASON_MIN_LENGTH = env_int("BREAK_GLASS_REASON_MIN_LENGTH", default=20)
# A new care plan's first review, until a review sets the next date.
CARE_PLAN_FIRST_REVIEW_WEEKS = env_int("CARE_PLAN_FIRST_REVIEW_WEEKS", default=12)

# Sensitive models refuse queries started anywhere but selectors, services and the policy
# (carecoord/scoping): "raise" (while developing, and in tests), "log" (the default in
# production: a path the tests missed is reported, not turned into an error page).
ACCESS_SCOPE_GUARD = os.environ.get("ACCESS_SCOPE_GUARD", "raise" if DEBUG else "log")
if ACCESS_SCOPE_GUARD not in {"raise", "log", "off"}:
    raise ImproperlyConfigured("ACCESS_SCOPE_GUARD must be raise, log or off.")

# django-axes: lock an account after repeated failed sign-ins.
AXES_FAILURE_LIMIT = env_int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("AXES_COOLOFF_MINUTES", default=15))
# Lock the account, not the network address: NHS staff share a few outgoing addresses, so
# locking by address would lock a whole ward out after one person's mistakes. Hence the
# silenced axes.W006 below.
AXES_LOCKOUT_PARAMETERS = ["username"]
SILENCED_SYSTEM_CHECKS += ["axes.W006"]
AXES_RESET_ON_SUCCESS = True
# The sign-in form posts the email as "username" (Django's AuthenticationForm).
AXES_USERNAME_FORM_FIELD = "username"
AXES_USERNAME_CALLABLE = "carecoord.records.auth.axes_username"
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
# The lock-out page, or the API's JSON error under /api/ (signing checks passwords too).
AXES_LOCKOUT_CALLABLE = "carecoord.records.auth.lockout_response"
AXES_VERBOSE = False

# django-guardian: no anonymous-user row; nobody signed out is ever granted anything.
ANONYMOUS_USER_NAME = None
GUARDIAN_RAISE_403 = False

LANGUAGE_CODE = "en-gb"
TIME_ZONE = "Europe/London"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
# The compiled NHS.UK CSS refers to url(/assets/images/...): serve those at the root.
WHITENOISE_ROOT = BASE_DIR / "static" / "root"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG or DEMO
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}
# The demo (DEBUG off, no collectstatic): WhiteNoise serves straight from the finders.
WHITENOISE_USE_FINDERS = DEMO
WHITENOISE_AUTOREFRESH = DEMO
# Files with personal data are stored here and served only through views that ask the
# access policy; never under STATIC_URL or any public URL.
PRIVATE_FILES_ROOT = Path(os.environ.get("PRIVATE_FILES_ROOT", BASE_DIR / "var" / "private"))

EMAIL_BACKEND = os.environ.get("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
EMAIL_HOST = os.environ.get("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", default=25)
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", default=False)
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "Care coordination <no-reply@localhost>")
# Links in emails use the address the request that caused them reached (host checked
# against ALLOWED_HOSTS, carecoord/web/site_url.py); this is only for emails sent with no
# request behind them (the review reminders).
SITE_URL = os.environ.get("SITE_URL", "http://127.0.0.1:8000")

# Celery: with no broker (the embedded default) tasks run eagerly, in-process.
CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL", "")
CELERY_RESULT_BACKEND = os.environ.get("CELERY_RESULT_BACKEND") or None
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", default=not CELERY_BROKER_URL)
# The demo's broker: kombu's filesystem transport, messages as files under var/ (no
# install, no server; scripts/demo.sh starts the worker). Not for production.
CELERY_FILESYSTEM_DIR = Path(os.environ.get("CELERY_FILESYSTEM_DIR",
                                            BASE_DIR / "var" / "celery"))


def filesystem_transport_options(folder: Path) -> dict:
    """kombu's filesystem transport in `folder` (made if missing): the web server writes
    each message as a file into one folder, the worker reads and deletes it."""
    for name in ("queue", "control"):
        (folder / name).mkdir(parents=True, exist_ok=True)
    return {
        "data_folder_in": str(folder / "queue"),
        "data_folder_out": str(folder / "queue"),
        "control_folder": str(folder / "control"),
        "store_processed": False,
        "polling_interval": 0.5,  # seconds a waiting worker sleeps between looks
    }


if CELERY_BROKER_URL.startswith("filesystem://"):
    CELERY_BROKER_TRANSPORT_OPTIONS = filesystem_transport_options(CELERY_FILESYSTEM_DIR)
else:
    # Redis gives a task that was taken but never acknowledged (its worker died) to another
    # worker after this many seconds: longer than any task runs.
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "visibility_timeout": env_int("CELERY_VISIBILITY_TIMEOUT", default=3600)}
# A worker process killed mid-task (out of memory, say): the task goes back on the queue.
CELERY_TASK_REJECT_ON_WORKER_LOST = True
# How long a PDF render may take before another worker may take it over.
EXPORT_RENDER_LEASE_SECONDS = env_int("EXPORT_RENDER_LEASE_SECONDS", default=300)
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = TIME_ZONE
# When Redis is down, a page that queues work must not hang: give up quickly, and the
# work stays recorded as queued for the requeue sweep (see carecoord/exports.py).
CELERY_BROKER_CONNECTION_TIMEOUT = 2
CELERY_TASK_PUBLISH_RETRY_POLICY = {
    "max_retries": 1, "interval_start": 0, "interval_step": 0.2, "interval_max": 0.2,
}
CELERY_RESULT_BACKEND_TRANSPORT_OPTIONS = {
    "retry_policy": {"max_retries": 1, "interval_start": 0, "interval_step": 0.2,
                     "interval_max": 0.5},
}
# What a task prints (the console email backend's emails, in the demo) goes to the
# worker's own output, not into its log as one escaped line.
CELERY_WORKER_REDIRECT_STDOUTS = False
# Tasks report through the database (exports, reminders), never through results.
CELERY_TASK_IGNORE_RESULT = True
# The periodic schedule lives in code; the compose file's `beat` service runs it.
CELERY_BEAT_SCHEDULE = {
    # Access events are appended without a lock and given their place in the hash chain
    # here, within seconds (ADR 0026).
    "audit-chain": {"task": "carecoord.audit.tasks.audit_chain_extend_task",
                    "schedule": env_int("AUDIT_CHAIN_EVERY_SECONDS", default=5)},
    "audit-partitions": {"task": "carecoord.audit.tasks.audit_partitions_ensure_task",
                         "schedule": crontab(minute=15, hour=2)},
    "review-reminders": {
        "task": "plans.tasks.review_reminders_sweep",
        "schedule": crontab(minute=5),  # hourly: a missed run is caught up on the next
    },
    "exports-requeue": {"task": "carecoord.exports.tasks.exports_requeue_task", "schedule": 60.0},
    "exports-cleanup": {"task": "carecoord.exports.tasks.exports_cleanup_task",
                        "schedule": crontab(minute=30, hour=3)},
}
# Full months of the access audit trail kept in the database; older months may be archived
# to files, oldest first (`archive_audit_month`, ADR 0027). Never fewer than 12.
AUDIT_KEEP_MONTHS_ONLINE = env_int("AUDIT_KEEP_MONTHS_ONLINE", default=24)
# Exported files (PDFs with personal data) are deleted after this many days.
EXPORT_KEEP_DAYS = env_int("EXPORT_KEEP_DAYS", default=7)

REST_FRAMEWORK = {
    # A personal API token first: a request with neither answers 401 with
    # `WWW-Authenticate: Token` (ADR 0013).
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "carecoord.apitokens.authentication.ApiTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": [
        "rest_framework.permissions.IsAuthenticated",
        "carecoord.apitokens.authentication.TokenScopePermission",
    ],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["carecoord.web.api_errors.JSONParser"],
    "EXCEPTION_HANDLER": "carecoord.web.api_errors.json_exception_handler",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
    "DEFAULT_SCHEMA_CLASS": "carecoord.web.api_schema.ApiSchema",
    "DEFAULT_PAGINATION_CLASS": "carecoord.web.api_pagination.PageNumberPages",
    "PAGE_SIZE": 25,
}

# Personal API tokens (django-rest-knox, carecoord/apitokens): hashed at rest, always
# with an expiry (at most 90 days, chosen by the person), a name and a scope.
KNOX_TOKEN_MODEL = "carecoord.ApiToken"
# knox's own migration would still create its (swapped-out) table, with a foreign key to
# the users that nothing in the project knows about: it has no migrations here.
MIGRATION_MODULES = {"knox": None}
REST_KNOX = {
    "TOKEN_PREFIX": "cc_",
    "AUTH_HEADER_PREFIX": "Token",
    "TOKEN_TTL": timedelta(days=30),
    "AUTO_REFRESH": False,
}

# The OpenAPI description at /api/schema/, its pages at /api/docs/ (Swagger UI from
# local static files: drf-spectacular-sidecar; no CDN, nothing inline under the CSP).
SPECTACULAR_SETTINGS = {
    "TITLE": "Care coordination API",
    "DESCRIPTION": (
        "The JSON API of the care coordination platform. It answers exactly what the "
        "caller may see (the same access policy as the pages): anything else is 404. "
        "Sign in with a session, or send a personal API token made on your profile page "
        "as `Authorization: Token <token>`. Errors are JSON: `{error, detail, fields?}`."
    ),
    "VERSION": "1.0.0",
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "ENUM_NAME_OVERRIDES": {
        "ExportKindEnum": "carecoord.exports.models.Export.Kind",
        "ExportStatusEnum": "carecoord.exports.models.Export.Status",
        "OfferKindEnum": "peersupport.models.OfferKind",
        "StoryStatusEnum": "peersupport.models.StoryStatus",
    },
    "DISABLE_ERRORS_AND_WARNINGS": False,
}

# Content-Security-Policy: no inline scripts or styles anywhere, no third-party hosts.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
        "base-uri": [SELF],
        "object-src": [NONE],
    }
}

X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
if not DEBUG and not DEMO:
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", default=True)
    SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", default=31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    # __Host- cookies: the browser keeps them only if Secure, Path=/ and with no Domain,
    # so no sibling subdomain can set or overwrite them.
    SESSION_COOKIE_NAME = "__Host-sessionid"
    CSRF_COOKIE_NAME = "__Host-csrftoken"
    SESSION_COOKIE_PATH = "/"
    CSRF_COOKIE_PATH = "/"
    SESSION_COOKIE_DOMAIN = None
    CSRF_COOKIE_DOMAIN = None
    if env_bool("BEHIND_TLS_PROXY", default=False):
        SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# Every log record is made safe (carecoord/web/log_safety.py): tokens in paths hashed,
# CR/LF escaped, exception messages (which may quote clinical text) withheld. The app
# installs it for every record as it is created; the filter covers any made earlier.
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"safe": {"()": "carecoord.web.log_safety.SafeLogFilter"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "filters": ["safe"]}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {
        # Django's own loggers (requests, runserver's request lines) go to the root's
        # safe handler and nowhere else (no mail_admins with a request's POST in it).
        "django": {"handlers": [], "level": "INFO", "propagate": True},
        # SQL with its parameters (people's words) is never logged, whatever LOG_LEVEL.
        "django.db.backends": {"level": "INFO"},
        "axes": {"level": "WARNING"},
        "weasyprint": {"level": "WARNING"},
        "fontTools": {"level": "WARNING"},
    },
}
