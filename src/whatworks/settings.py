"""Django settings. Configuration comes only from the environment (see the README's table)."""

from __future__ import annotations

from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

from whatworks.environment import data_dir, env_bool, env_int, env_list, env_numbers, env_str

PACKAGE_DIR = Path(__file__).resolve().parent
DATA_DIR = data_dir()

# Demo mode is switched on only by `whatworks demo` (see whatworks.manage). It allows the
# generated secret key and the demo accounts' published passwords; nothing else does.
DEMO_MODE = env_bool("WHATWORKS_DEMO_MODE", False)

SECRET_KEY = env_str("SECRET_KEY")
# Old keys still accepted for sessions, password-reset links and signed values while a new
# SECRET_KEY takes over (docs/how-to/rotate-keys.md). Comma-separated.
SECRET_KEY_FALLBACKS = env_list("SECRET_KEY_FALLBACKS", [])
if not SECRET_KEY:
    raise ImproperlyConfigured(
        "SECRET_KEY is not set. Set it in the environment (see README, Configuration), "
        "or run `whatworks demo`, which generates one for the demo."
    )

DEBUG = env_bool("DEBUG", False)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]"])

if not env_str("DATABASE_URL"):
    DATA_DIR.mkdir(parents=True, exist_ok=True)
DATABASES = {
    "default": dj_database_url.parse(
        env_str("DATABASE_URL") or f"sqlite:///{DATA_DIR / 'whatworks.sqlite3'}",
        conn_max_age=60,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets the dashboard read while an import writes; IMMEDIATE avoids "database is
    # locked" on write transactions that start as reads.
    DATABASES["default"]["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
    }
    DATABASES["default"]["CONN_MAX_AGE"] = 0
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "ninja",
    "django_tasks",
    "django_tasks_db",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "whatworks.accounts",
    "whatworks.audit",
    "whatworks.records",
    "whatworks.web",
    "whatworks.evidence",
    "whatworks.assessments",
    "whatworks.treatment",
    "whatworks.drugtests",
    "whatworks.health",
    "whatworks.evaluation",
    "whatworks.reintegration",
    "whatworks.community",
    "whatworks.outcomes",
    "whatworks.riskmodels",
    "whatworks.privacy",
    "whatworks.demo",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whatworks.web.middleware.RequestIDMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "whatworks.accounts.middleware.TwoFactorRequiredMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "whatworks.web.middleware.SecurityHeadersMiddleware",
]

ROOT_URLCONF = "whatworks.urls"
WSGI_APPLICATION = "whatworks.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "whatworks.web.context_processors.navigation",
            ],
        },
    },
]

AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = ["whatworks.accounts.backends.StaffBackend"]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "dashboard"
LOGOUT_REDIRECT_URL = "login"
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# Failed password attempts before an account is locked until an administrator unlocks it.
LOGIN_MAX_FAILURES = env_int("WHATWORKS_LOGIN_MAX_FAILURES", 5, minimum=1)
# Failed logins from one network address, over all usernames, before that address must wait
# out the window: this limits password spraying, which the per-account lockout cannot see.
LOGIN_ADDRESS_MAX_FAILURES = env_int("WHATWORKS_LOGIN_ADDRESS_MAX_FAILURES", 20, minimum=1)
LOGIN_ADDRESS_WINDOW_MINUTES = env_int("WHATWORKS_LOGIN_ADDRESS_WINDOW_MINUTES", 15, minimum=1)
# Roles that must sign in with a TOTP code as well as the password (docs/security.md). The
# demo's accounts have published passwords and no authenticator, so the demo requires none.
TWO_FACTOR_REQUIRED_ROLES = env_list(
    "WHATWORKS_2FA_REQUIRED_ROLES", [] if DEMO_MODE else ["administrator", "health_staff"]
)
OTP_TOTP_ISSUER = "What Works"
SESSION_COOKIE_AGE = 8 * 60 * 60  # one shift
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
# Behind TLS in production these must be on; the demo serves plain HTTP on loopback.
SESSION_COOKIE_SECURE = env_bool("SECURE_COOKIES", not DEBUG and not DEMO_MODE)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
# HTTPS only, with HSTS, outside DEBUG and the demo (docs/security.md). A service on a
# closed network without TLS must say so explicitly: WHATWORKS_HTTPS=false. /healthz stays
# reachable over plain HTTP for load balancers. Behind a proxy that terminates TLS, set
# WHATWORKS_PROXY_SSL_HEADER=true so that its X-Forwarded-Proto is trusted.
HTTPS_ONLY = env_bool("WHATWORKS_HTTPS", not DEBUG and not DEMO_MODE)
SECURE_SSL_REDIRECT = HTTPS_ONLY
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
SECURE_HSTS_SECONDS = env_int("WHATWORKS_HSTS_SECONDS", 31_536_000 if HTTPS_ONLY else 0)
# HSTS covers the app's own host name and its subdomains (not the parent domain). "preload"
# only permits submission to the browsers' list; nothing is submitted by the app.
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("WHATWORKS_HSTS_SUBDOMAINS", HTTPS_ONLY)
SECURE_HSTS_PRELOAD = env_bool("WHATWORKS_HSTS_PRELOAD", HTTPS_ONLY)
if env_bool("WHATWORKS_PROXY_SSL_HEADER", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

LANGUAGE_CODE = env_str("LANGUAGE_CODE", "en")
LANGUAGES = [
    ("en", _("English")),
    ("es", _("Spanish")),
    ("pt-br", _("Portuguese (Brazil)")),
]
LOCALE_PATHS = [PACKAGE_DIR / "locale"]
TIME_ZONE = env_str("TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
# Optional: only deployments that run `collectstatic` behind a reverse proxy set it.
STATIC_ROOT = env_str("STATIC_ROOT") or None
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
# Serve straight from the app folders, so `whatworks serve` needs no collectstatic step.
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = DEBUG

# Background tasks (programme evaluations): queued in the database and run by the worker
# that `whatworks serve` and `whatworks demo` start beside the web server (or by a separate
# `whatworks db_worker`).
TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}}
TASK_WORKER_IN_SERVER = env_bool("WHATWORKS_TASK_WORKER", True)

# Upload limits (issue 10, "Trust"). Django's defaults are implicit; these are stated so a
# review sees them. A request body (forms, JSON; file parts excluded) above
# WHATWORKS_MAX_UPLOAD_MB is refused with 400 when a view reads it, so one oversized post
# cannot exhaust the server's memory; uploaded files above 2.5 MB are streamed to a temporary
# file instead of memory (Django does not cap file size: a form that takes a file checks
# its size itself); a form with more than 1000 fields is refused (no screen has nearly that
# many). The outcome importer (`whatworks import`) reads files from disk and refuses those
# above WHATWORKS_MAX_IMPORT_MB (police and court extracts are larger than any web form).
WHATWORKS_MAX_UPLOAD_MB = env_int("WHATWORKS_MAX_UPLOAD_MB", 10, minimum=1)
DATA_UPLOAD_MAX_MEMORY_SIZE = WHATWORKS_MAX_UPLOAD_MB * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 2_621_440  # 2.5 MB, Django's default, stated
DATA_UPLOAD_MAX_NUMBER_FIELDS = 1000
WHATWORKS_MAX_IMPORT_MB = env_int("WHATWORKS_MAX_IMPORT_MB", 200, minimum=1)

NINJA_PAGINATION_PER_PAGE = 50
NINJA_PAGINATION_MAX_LIMIT = 200

# Logs go to the console. LOG_FORMAT=json writes one JSON object per line (for a log
# collector); text (the default, for development and the demo) is one readable line. Every
# record carries the request ID (whatworks.web.middleware.RequestIDMiddleware) of the
# request it was emitted in; LOG_LEVEL=INFO adds one line per request (logger
# whatworks.request: method, path without query string, status, duration, user id).
LOG_FORMAT = env_str("LOG_FORMAT", "text").strip().lower()
if LOG_FORMAT not in ("json", "text"):
    raise ImproperlyConfigured(f"LOG_FORMAT must be json or text, got {LOG_FORMAT!r}")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": "whatworks.web.middleware.RequestIDFilter"}},
    "formatters": {
        "text": {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"},
        "json": {"()": "whatworks.web.middleware.JSONFormatter"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "filters": ["request_id"],
            "formatter": LOG_FORMAT,
        }
    },
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "WARNING")},
}

# Treatment (README, "Treatment"): the risk principle's target hours per risk band, the
# waitlist's weights, the plan review interval per band, and the remission rules in force.
TREATMENT_DOSAGE_HOURS = env_numbers(
    "WHATWORKS_DOSAGE_HOURS", {"low": 0, "moderate": 100, "high": 200, "very_high": 300}
)
TREATMENT_WAITLIST_WEIGHTS = env_numbers(
    "WHATWORKS_WAITLIST_WEIGHTS", {"risk": 0.4, "need": 0.3, "release": 0.2, "waiting": 0.1}
)
TREATMENT_REVIEW_MONTHS = env_numbers(
    "WHATWORKS_PLAN_REVIEW_MONTHS", {"low": 12, "moderate": 6, "high": 3, "very_high": 3}
)
# A rules file name under analytics/treatment/builtin ("br-lep") or "none".
TREATMENT_REMISSION_RULES = env_str("WHATWORKS_REMISSION_RULES", "br-lep")
# Community follow-up after release (community/conf.py parses and checks these).
WHATWORKS_FOLLOWUP_MONTHS = env_list("WHATWORKS_FOLLOWUP_MONTHS", ["1", "3", "6", "12"])
WHATWORKS_FOLLOWUP_GRACE_DAYS = env_str("WHATWORKS_FOLLOWUP_GRACE_DAYS", "14")
# Drug-test results are health data: case managers see them only when this is switched on.
DRUG_TEST_RESULTS_FOR_CASE_MANAGERS = env_bool(
    "WHATWORKS_DRUG_TEST_RESULTS_FOR_CASE_MANAGERS", False
)

# Reintegration (docs/reintegration.md): release preparation opens this many weeks before the
# expected release date; the support-needs catalogue may be replaced by a service's own file.
RELEASE_PREPARATION_WEEKS = env_int("WHATWORKS_RELEASE_PREPARATION_WEEKS", 12, minimum=1)
SUPPORT_NEEDS_FILE = env_str("WHATWORKS_SUPPORT_NEEDS_FILE", "")

# Retention (docs/privacy.md): what happens to a person's records once this many years have
# passed since their last release with no open custody episode. "off" (the default: the legal
# period differs by country and must be chosen by the service), "pseudonymise" or "delete".
RETENTION_ACTION = env_str("WHATWORKS_RETENTION_ACTION", "off").strip().lower()
if RETENTION_ACTION not in ("off", "pseudonymise", "delete"):
    raise ImproperlyConfigured(
        f"WHATWORKS_RETENTION_ACTION must be off, pseudonymise or delete, got {RETENTION_ACTION!r}"
    )
RETENTION_YEARS = env_int("WHATWORKS_RETENTION_YEARS", 10, minimum=1)
