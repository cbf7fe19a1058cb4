"""
Settings for the Arms Talks Position Tracker.

Everything that differs between machines is read from the environment, and a value
that makes no sense stops start-up with ImproperlyConfigured saying what is wrong.
See the README's "Configuration" section for the variables.
"""

import datetime
import os
import secrets
from pathlib import Path

import dj_database_url
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent

TRUE_WORDS = {"1", "true", "yes", "on"}
FALSE_WORDS = {"0", "false", "no", "off", ""}


def env_bool(name, default):
    value = os.environ.get(name)
    if value is None:
        return default
    word = value.strip().lower()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    raise ImproperlyConfigured(
        f"{name}={value!r} is not a boolean; use one of 1/0, true/false, yes/no, on/off."
    )


def env_int(name, default, *, minimum=0):
    value = os.environ.get(name)
    if value is None or value.strip() == "":
        return default
    try:
        number = int(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name}={value!r} is not a whole number.") from None
    if number < minimum:
        raise ImproperlyConfigured(f"{name}={value!r} must be at least {minimum}.")
    return number


def env_list(name, default):
    value = os.environ.get(name)
    if value is None:
        return default
    items = [item.strip() for item in value.split(",") if item.strip()]
    if not items:
        raise ImproperlyConfigured(
            f"{name} is set but lists nothing; give comma-separated values."
        )
    return items


RATE_PERIODS = {"s", "sec", "m", "min", "h", "hour", "d", "day"}


def env_rate(name, default):
    """A request rate such as 1200/min (requests per s, sec, m, min, h, hour, d or day),
    or None for "off"."""
    value = os.environ.get(name)
    if value is None or value.strip() == "":
        return default
    word = value.strip().lower()
    if word in FALSE_WORDS | {"none"}:
        return None
    count, _, period = word.partition("/")
    if not (count.isascii() and count.isdigit() and int(count) > 0 and period in RATE_PERIODS):
        raise ImproperlyConfigured(
            f"{name}={value!r} is not a rate; give requests per period, e.g. 1200/min "
            "(s, min, hour or day), or off."
        )
    return f"{int(count)}/{period}"


def dev_secret_key():
    """A per-checkout key for local development, kept out of git and never used with DEBUG off."""
    path = BASE_DIR / ".dev-secret-key"
    try:
        return path.read_text().strip()
    except FileNotFoundError:
        key = secrets.token_urlsafe(50)
        path.write_text(key + "\n")
        path.chmod(0o600)
        return key


DEBUG = env_bool("DEBUG", True)

SECRET_KEY = os.environ.get("SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "SECRET_KEY must be set when DEBUG is off. Generate one with: "
            "python -c 'import secrets; print(secrets.token_urlsafe(50))'"
        )
    SECRET_KEY = dev_secret_key()
elif len(SECRET_KEY) < 32 and not DEBUG:
    raise ImproperlyConfigured("SECRET_KEY is too short; use at least 32 random characters.")

if DEBUG:
    ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]", "testserver"])
else:
    ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", [])
    if not ALLOWED_HOSTS:
        raise ImproperlyConfigured(
            "ALLOWED_HOSTS must be set when DEBUG is off, e.g. ALLOWED_HOSTS=tracker.example.org"
        )

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.humanize",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_htmx",
    "template_partials",
    "simple_history",
    "axes",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "positions",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "positions.middleware.SecurityHeadersMiddleware",
    "positions.middleware.DatabaseUnavailableMiddleware",
    "positions.middleware.RejectNulMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "positions.mfa.RequireSecondFactorMiddleware",
    "positions.audit.AuditMiddleware",
    "positions.routers.ReplicaPinningMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # Last, as django-axes asks: it turns a lockout raised by the login into its answer.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "arms_talks.urls"

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

WSGI_APPLICATION = "arms_talks.wsgi.application"

# The embedded default is a SQLite file inside the project; PostgreSQL is production.
DEFAULT_DATABASE_URL = f"sqlite:///{BASE_DIR / 'db.sqlite3'}"
DATABASE_URL = os.environ.get("DATABASE_URL") or DEFAULT_DATABASE_URL


def parse_database_url(name, url):
    """A DATABASES entry from the URL in variable ``name``, with persistent connections."""
    try:
        return dj_database_url.parse(
            url,
            conn_max_age=env_int("DB_CONN_MAX_AGE", 60),
            # Without health checks, the first request on each worker after a
            # PostgreSQL restart fails on its stale persistent connection.
            conn_health_checks=True,
        )
    except ValueError as error:
        raise ImproperlyConfigured(f"{name}={url!r} cannot be used: {error}") from None


_database = parse_database_url("DATABASE_URL", DATABASE_URL)
if _database["ENGINE"] not in {
    "django.db.backends.sqlite3",
    "django.db.backends.postgresql",
}:
    raise ImproperlyConfigured(
        f"DATABASE_URL uses {_database['ENGINE']}; only sqlite:// and postgres:// are supported."
    )
if not _database.get("NAME"):
    raise ImproperlyConfigured(
        f"DATABASE_URL={DATABASE_URL!r} names no database, e.g. postgres://user@host:5432/tracker"
    )
if _database["ENGINE"] == "django.db.backends.sqlite3":
    _database["OPTIONS"] = {
        # IMMEDIATE takes the write lock at BEGIN, so concurrent writers wait for
        # it (up to the timeout) instead of failing with "database is locked".
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
DATABASES = {"default": _database}

# A read replica, when there is one: reads go to it, except in requests that write and for
# a few seconds after a write by the same browser (positions/routers.py), so that an editor
# always sees their own change. Migrations run on the primary only.
DATABASE_REPLICA_URL = os.environ.get("DATABASE_REPLICA_URL", "").strip()
if DATABASE_REPLICA_URL:
    _replica = parse_database_url("DATABASE_REPLICA_URL", DATABASE_REPLICA_URL)
    if _replica["ENGINE"] != "django.db.backends.postgresql":
        raise ImproperlyConfigured("DATABASE_REPLICA_URL must be a postgres:// URL.")
    _replica["TEST"] = {"MIRROR": "default"}
    DATABASES["replica"] = _replica
    DATABASE_ROUTERS = ["positions.routers.PrimaryReplicaRouter"]
REPLICA_PIN_SECONDS = env_int("REPLICA_PIN_SECONDS", 10)

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = Path(os.environ.get("STATIC_ROOT") or BASE_DIR / "staticfiles")
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

LOGIN_URL = "admin:login"
AUTHENTICATION_BACKENDS = [
    # First: refuses a locked-out username and address before any password is checked.
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]

# Login throttling (django-axes): after LOGIN_FAILURE_LIMIT wrong passwords for one
# username from one address, that pair waits LOGIN_LOCKOUT_MINUTES. Username and address
# together, so that nobody can lock an editor out from elsewhere. Behind a reverse proxy,
# set TRUSTED_PROXY_COUNT (how many proxies append to X-Forwarded-For) so that the client's
# address is the key; until then the header is ignored, so a client cannot forge it.
AXES_FAILURE_LIMIT = env_int("LOGIN_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = datetime.timedelta(minutes=env_int("LOGIN_LOCKOUT_MINUTES", 15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_CLIENT_IP_CALLABLE = "positions.mfa.client_ip"
TRUSTED_PROXY_COUNT = env_int("TRUSTED_PROXY_COUNT", 0)
AXES_VERBOSE = False

# Backups of SQLite databases (positions/backup.py): JSON that keeps microseconds.
SERIALIZATION_MODULES = {"exactjson": "positions.exactjson"}

# Two-factor sign-in for staff and editors (positions/mfa.py).
OTP_TOTP_ISSUER = "Arms Talks Position Tracker"
# An administrator can remove someone's devices in the admin, but not read their keys.
OTP_ADMIN_HIDE_SENSITIVE_DATA = True

REST_FRAMEWORK = {
    # Nothing is open unless a view says so (the resources open reads explicitly).
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    # Token first, so that an anonymous write is answered 401 with WWW-Authenticate.
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PARSER_CLASSES": ["positions.rest.BoundedJSONParser"],
    # JSON only: DRF's browsable API needs inline styles, which the CSP below forbids;
    # the API's own pages are the docs at /api/docs/.
    "DEFAULT_RENDERER_CLASSES": ["positions.rest.FastJSONRenderer"],
    "DEFAULT_PAGINATION_CLASS": "positions.rest.StrictPagination",
    "DEFAULT_SCHEMA_CLASS": "positions.schema.TrackerSchema",
    "EXCEPTION_HANDLER": "positions.rest.exception_handler",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
    # Requests per client address (anonymous) or per user, counted in the cache: Redis
    # when REDIS_URL is set, so shared by every app process. With Redis down the count is
    # skipped (fails open, with a log line) rather than refusing everyone.
    "DEFAULT_THROTTLE_CLASSES": ["positions.rest.AnonymousRate", "positions.rest.UserRate"],
}
# API_RATE_ANON / API_RATE_USER: e.g. 1200/min, or off. Read per request (positions/rest.py).
API_RATES = {
    "anon": env_rate("API_RATE_ANON", "1200/min"),
    "user": env_rate("API_RATE_USER", "6000/min"),
}

SPECTACULAR_SETTINGS = {
    "TITLE": "Arms Talks Position Tracker API",
    "DESCRIPTION": (
        "Where Russia and the United States stand, issue by issue, in their own words. "
        "Reads are public. Writes need an editor's token (Authorization: Token <key>) or "
        "session with CSRF; updates need If-Match with the record's ETag (its version)."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
    "COMPONENT_SPLIT_REQUEST": True,
    "ENUM_NAME_OVERRIDES": {"DatePrecisionEnum": "positions.models.DatePrecision"},
    # The docs pages load their scripts from the app, never from a CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}

# Every response says what the page may load and run: only this site's own scripts,
# styles, images and fonts (nothing inline, nothing evaluated), never framed, forms only
# to this site. The SVG charts are drawn server-side, so they need nothing more.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [NONE],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "manifest-src": [SELF],
        "frame-ancestors": [NONE],
        "form-action": [SELF],
        "base-uri": [NONE],
        "object-src": [NONE],
    }
}
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "strict-origin-when-cross-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_HTTPONLY = True  # forms carry the token; no script reads the cookie
CSRF_COOKIE_SAMESITE = "Lax"

if not DEBUG:
    # Served over HTTPS only (behind a proxy that terminates TLS): secure cookies, with the
    # __Host- prefix, which browsers accept only from HTTPS, for this host, on path /.
    SESSION_COOKIE_NAME = "__Host-sessionid"
    CSRF_COOKIE_NAME = "__Host-csrftoken"
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 60 * 60 * 24 * 365)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

LOG_LEVEL = os.environ.get("LOG_LEVEL", "INFO").upper()
if LOG_LEVEL not in {"DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"}:
    raise ImproperlyConfigured(
        f"LOG_LEVEL={LOG_LEVEL!r} is not a logging level; use DEBUG, INFO, WARNING or ERROR."
    )

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
}

# Sources added by editors: the largest file accepted, and the longest pasted text.
SOURCE_UPLOAD_MAX_BYTES = env_int("SOURCE_UPLOAD_MAX_BYTES", 2 * 1024 * 1024)
SOURCE_TEXT_MAX_CHARS = env_int("SOURCE_TEXT_MAX_CHARS", 1_000_000)
# A form's fields (not its files) may hold the longest pasted text, at up to 4 bytes a
# character, so that the editor gets the form's own "too long" message rather than a
# bare 400 from Django's request parser.
DATA_UPLOAD_MAX_MEMORY_SIZE = max(2_621_440, 4 * SOURCE_TEXT_MAX_CHARS + 65_536)

# The cache: Redis, shared by every app process, when REDIS_URL is set (e.g.
# redis://127.0.0.1:6379/0); otherwise each process's own memory. Either way a cached page
# is keyed by the content version, which every write raises (positions/caching.py), so no
# process serves a page from before an edit.
REDIS_URL = os.environ.get("REDIS_URL", "").strip()
if REDIS_URL:
    CACHES = {
        "default": {
            # Django's Redis backend, failing open: with Redis down the pages come from
            # the database, and the log says so (positions/cache.py).
            "BACKEND": "positions.cache.FailOpenRedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "arms-talks",
            "TIMEOUT": 3600,
            "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5},
        }
    }
else:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": "arms-talks",
            "TIMEOUT": 3600,
            "OPTIONS": {"MAX_ENTRIES": 5000},
        }
    }
