"""Settings of the mail directory, read from the environment or ``.env`` (django-environ).

Every setting has a safe default for a development panel on SQLite under
``var/``; production sets ``DATABASE_URL``, ``SECRET_KEY`` and ``ALLOWED_HOSTS``.
Any ``NAME_FILE`` variable may hold the path of a file with the secret instead.
"""

from pathlib import Path

import environ

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(environ.Env().str("MAILADMIN_VAR_DIR", default=str(BASE_DIR / "var")))

env = environ.Env(
    DEBUG=(bool, False),
    ALLOWED_HOSTS=(list, ["localhost", "127.0.0.1", "[::1]"]),
)
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)
VAR_DIR.mkdir(parents=True, exist_ok=True)


def _secret_key() -> str:
    """SECRET_KEY from the environment, else one kept in var/ (made once)."""
    if "SECRET_KEY" in env or "SECRET_KEY_FILE" in env:
        return env.str("SECRET_KEY")
    path = VAR_DIR / "secret_key"
    if not path.exists():
        from django.utils.crypto import get_random_string

        path.write_text(get_random_string(64))
        path.chmod(0o600)
    return path.read_text().strip()


SECRET_KEY = _secret_key()
DEBUG = env("DEBUG")
ALLOWED_HOSTS = env("ALLOWED_HOSTS")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "mailadmin",
    "domains",
    "accounts",
    "aliases",
    "vacation",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "mailadmin.urls"
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
WSGI_APPLICATION = "mailadmin.wsgi.application"

DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'mailadmin.sqlite3'}")}
DATABASES["default"].setdefault("ATOMIC_REQUESTS", False)
if DATABASES["default"]["ENGINE"] == "django.db.backends.mysql":
    DATABASES["default"].setdefault("OPTIONS", {}).setdefault("charset", "utf8mb4")
    DATABASES["default"]["OPTIONS"].setdefault("isolation_level", "read committed")
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL and a busy timeout let the panel, the CLI and the lookups share the file.
    DATABASES["default"].setdefault("OPTIONS", {}).setdefault("timeout", 20)
    DATABASES["default"]["OPTIONS"].setdefault("transaction_mode", "IMMEDIATE")
    DATABASES["default"]["OPTIONS"].setdefault("init_command", "PRAGMA journal_mode=WAL;")
    # A file, not memory, so Exim and Dovecot can read the test database too.
    _name = Path(DATABASES["default"]["NAME"])
    DATABASES["default"].setdefault("TEST", {"NAME": str(_name.with_name("test_" + _name.name))})

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "accounts.Mailbox"
AUTHENTICATION_BACKENDS = ["django.contrib.auth.backends.ModelBackend"]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "/"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = env.str("TIME_ZONE", default="UTC")
USE_I18N = True
USE_TZ = True
STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_SECURE = env.bool("SECURE_COOKIES", default=not DEBUG and "localhost" not in ALLOWED_HOSTS)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"

# --- The mail directory ---------------------------------------------------
# New password hashes: ARGON2ID (default), BLF-CRYPT or SHA512-CRYPT.
MAIL_PASSWORD_SCHEME = env.str("MAIL_PASSWORD_SCHEME", default="ARGON2ID")
MAIL_ARGON2_MEMORY_KIB = env.int("MAIL_ARGON2_MEMORY_KIB", default=65536)
MAIL_ARGON2_TIME_COST = env.int("MAIL_ARGON2_TIME_COST", default=3)
MAIL_BCRYPT_ROUNDS = env.int("MAIL_BCRYPT_ROUNDS", default=10)
MAIL_SHA512_ROUNDS = env.int("MAIL_SHA512_ROUNDS", default=5000)
# Text of the default vacation reply (the "default" mode), used by the Exim templates.
VACATION_DEFAULT_SUBJECT = env.str("VACATION_DEFAULT_SUBJECT", default="Out of office")
VACATION_DEFAULT_BODY = env.str(
    "VACATION_DEFAULT_BODY",
    default="I am away and will read your message when I am back.",
)
VACATION_DEFAULT_INTERVAL_DAYS = env.int("VACATION_DEFAULT_INTERVAL_DAYS", default=7)
# The two read-only database users that `manage.py lookup_users` creates.
LOOKUP_EXIM_USER = env.str("LOOKUP_EXIM_USER", default="mail_exim")
LOOKUP_DOVECOT_USER = env.str("LOOKUP_DOVECOT_USER", default="mail_dovecot")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="WARNING")},
}
