"""Settings of the mail directory, read from the environment or ``.env`` (django-environ).

Every setting has a safe default for a development panel on SQLite under
``var/``; production sets ``DATABASE_URL``, ``SECRET_KEY`` and ``ALLOWED_HOSTS``.
Any ``NAME_FILE`` variable may hold the path of a file with the secret instead.
"""

from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured

from mailadmin.lib.clients import parse_networks
from mailadmin.lib.messages import gettext_noop  # (Django-free: importing Django's here let a bad setting pass)

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
    "policy",
    "mailserver",
    "imports",
    "api",
    "axes",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_tasks",
    "django_tasks_db",
]

MIDDLEWARE = [
    # First: autoconfig, autodiscover and MTA-STS answers for hosted domains' own names (they
    # are not in ALLOWED_HOSTS); everything else passes on untouched.
    "domains.middleware.DomainNamesMiddleware",
    "django.middleware.security.SecurityMiddleware",
    # Static files under gunicorn without a separate web server (scripts/serve).
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    # The language: the one chosen with the panel's switcher (a cookie), else the browser's
    # Accept-Language, else English.
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    # A logged-in account that must use two-factor login and has not set it up yet sees only
    # the page that sets it up (accounts/twofactor.py).
    "accounts.middleware.TwoFactorEnrolmentMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "mailadmin.middleware.ContentSecurityPolicyMiddleware",
    # Last, as django-axes asks: it turns a locked-out login into its 429 answer.
    "axes.middleware.AxesMiddleware",
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
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "mailadmin.context_processors.panel",
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
    _name.parent.mkdir(parents=True, exist_ok=True)
    DATABASES["default"].setdefault("TEST", {"NAME": str(_name.with_name("test_" + _name.name))})

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "accounts.Mailbox"
# django-axes first: it refuses a locked-out address or client before any hash is checked.
# accounts.backends.MailboxBackend: ModelBackend that loads the mailbox with its domain and grant.
AUTHENTICATION_BACKENDS = ["axes.backends.AxesStandaloneBackend", "accounts.backends.MailboxBackend"]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "login"
# The password policy. accounts.services applies it to every new password, whoever sets it (panel,
# command line, bulk creation); imports and restores of passwords already in use opt out explicitly.
# A mailbox has no username/email: compare with its address, local part and names instead.
AUTH_PASSWORD_VALIDATORS = [
    {
        "NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator",
        "OPTIONS": {"user_attributes": ("address", "local_part", "first_name", "last_name")},
    },
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en"
# The panel's languages; their catalogues are locale/<code>/LC_MESSAGES/django.po, compiled by
# scripts/install.sh (manage.py compilemessages).
LANGUAGES = [("en", "English"), ("de", "Deutsch"), ("fr", "Français")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = env.str("TIME_ZONE", default="UTC")
USE_I18N = True
USE_TZ = True
STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"
STATIC_ROOT.mkdir(exist_ok=True)
# WhiteNoise serves the app's static files from their source folders too, so the panel
# works before (and without) collectstatic; scripts/serve runs collectstatic anyway.
WHITENOISE_USE_FINDERS = True

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
# Session and CSRF cookies travel over HTTPS only. Browsers also accept them from http://localhost
# and http://127.0.0.1 (the local trial of scripts/serve); plain HTTP on any other host name needs
# SECURE_COOKIES=false, or every login fails its CSRF check (the browser drops the cookie).
SESSION_COOKIE_SECURE = env.bool("SECURE_COOKIES", default=True)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
LANGUAGE_COOKIE_SECURE = SESSION_COOKIE_SECURE
LANGUAGE_COOKIE_HTTPONLY = True
LANGUAGE_COOKIE_SAMESITE = "Lax"
LANGUAGE_COOKIE_AGE = 365 * 24 * 3600
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SESSION_COOKIE_AGE = env.int("SESSION_COOKIE_AGE", default=8 * 3600)
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
MESSAGE_STORAGE = "django.contrib.messages.storage.session.SessionStorage"
# HSTS is sent only on HTTPS responses (SecurityMiddleware), so it is harmless without TLS.
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=False)
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=False)
if env.bool("BEHIND_TLS_PROXY", default=False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# Served by mailadmin.middleware on every response: no inline script or style, no framing.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
# Who the client is (mailadmin/lib/clients.py): the panel believes X-Forwarded-For only from the
# reverse proxies in TRUSTED_PROXIES (addresses or networks, e.g. 127.0.0.1,::1). A connection's own
# address is taken as the client's only with CLIENTS_CONNECT_DIRECTLY (no proxy in front), and never
# from loopback. Otherwise the client is unknown: login failures then count per address only.
TRUSTED_PROXIES = env.list("TRUSTED_PROXIES", default=[])
try:
    parse_networks(TRUSTED_PROXIES)
except ValueError as exc:
    raise ImproperlyConfigured(f"TRUSTED_PROXIES: {exc}") from None
CLIENTS_CONNECT_DIRECTLY = env.bool("CLIENTS_CONNECT_DIRECTLY", default=False)

# --- Login throttling (django-axes) ---------------------------------------------
# Failures are counted per address and, separately, per client where the client's address is
# known (see TRUSTED_PROXIES above); either lock-out refuses further logins until the cool-off
# ends. A success clears its address's counter.
AXES_FAILURE_LIMIT = env.int("LOGIN_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = env.float("LOGIN_COOLOFF_HOURS", default=0.25)
AXES_LOCKOUT_PARAMETERS = "mailadmin.throttling.lockout_parameters"
AXES_RESET_ON_SUCCESS = True
# A success clears only its own address's failures (see mailadmin/throttling.py).
AXES_HANDLER = "mailadmin.throttling.LoginAttempts"
AXES_USERNAME_CALLABLE = "mailadmin.shortcuts.login_username"
AXES_CLIENT_IP_CALLABLE = "mailadmin.shortcuts.client_ip"
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_VERBOSE = False

# --- Two-factor login (accounts/twofactor.py) ------------------------------------
# Who must log in to the panel with a second factor (a TOTP authenticator app, or a one-time
# recovery code): "" (nobody must; anyone may), "superusers", or "admins" (superusers and domain
# administrators). A domain's own "require two-factor login" setting adds its administrators.
TWO_FACTOR_REQUIRED = env.str("TWO_FACTOR_REQUIRED", default="")
if TWO_FACTOR_REQUIRED not in ("", "superusers", "admins"):
    raise ImproperlyConfigured('TWO_FACTOR_REQUIRED: "", "superusers" or "admins".')
# The name an authenticator app shows beside the account.
OTP_TOTP_ISSUER = env.str("TWO_FACTOR_ISSUER", default="Mail panel")
# After a wrong code, the next one is checked only after 1, 2, 4, 8 ... seconds (django-otp).
OTP_TOTP_THROTTLE_FACTOR = 1
# A password checked but its second factor not yet given is forgotten after this many seconds.
TWO_FACTOR_PENDING_SECONDS = 300
# Security keys (WebAuthn) answer for one site: the panel's host name, as the browser sees it, unless
# set here (a parent domain, for a panel reached under several names of one domain).
WEBAUTHN_RP_ID = env.str("WEBAUTHN_RP_ID", default="")

# --- The mail directory ---------------------------------------------------
# New password hashes: ARGON2ID (default), BLF-CRYPT or SHA512-CRYPT.
MAIL_PASSWORD_SCHEME = env.str("MAIL_PASSWORD_SCHEME", default="ARGON2ID")
MAIL_ARGON2_MEMORY_KIB = env.int("MAIL_ARGON2_MEMORY_KIB", default=65536)
MAIL_ARGON2_TIME_COST = env.int("MAIL_ARGON2_TIME_COST", default=3)
MAIL_BCRYPT_ROUNDS = env.int("MAIL_BCRYPT_ROUNDS", default=10)
MAIL_SHA512_ROUNDS = env.int("MAIL_SHA512_ROUNDS", default=5000)


# Text of the default vacation reply (the "default" mode), used by the Exim templates. These
# defaults are in the catalogues: a reply goes out in the language of its mailbox's vacation
# (vacation.models.default_text); a text set here that the catalogues do not hold is sent as it is.
VACATION_DEFAULT_SUBJECT = env.str("VACATION_DEFAULT_SUBJECT", default=gettext_noop("Out of office"))
VACATION_DEFAULT_BODY = env.str(
    "VACATION_DEFAULT_BODY",
    default=gettext_noop("I am away and will read your message when I am back."),
)
VACATION_DEFAULT_INTERVAL_DAYS = env.int("VACATION_DEFAULT_INTERVAL_DAYS", default=7)
# The two read-only database users that `manage.py lookup_users` creates, and the third, through
# which Exim writes greylisting's triplets (that one table only).
LOOKUP_EXIM_USER = env.str("LOOKUP_EXIM_USER", default="mail_exim")
LOOKUP_DOVECOT_USER = env.str("LOOKUP_DOVECOT_USER", default="mail_dovecot")
LOOKUP_GREYLIST_USER = env.str("LOOKUP_GREYLIST_USER", default="mail_greylist")

# --- Bulk work outside the request (accounts.jobs) ---------------------------------------
# Django's tasks interface (the django-tasks backport on Django 5.2). The default backend keeps the
# queue in this database (django-tasks-db), so a first run needs no other server; its worker is
# `manage.py db_worker`, which scripts/serve and deploy/systemd start beside gunicorn.
TASKS = {
    "default": {
        "BACKEND": env.str("TASKS_BACKEND", default="django_tasks_db.DatabaseBackend"),
        "QUEUES": ["default"],
    }
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="WARNING")},
}

# --- Mail store and operations (issue 5: usage job, mailbox lifecycle) -----------
# Where Dovecot keeps the maildirs: a mailbox's maildir is MAIL_STORE/<domain>/<local part>/.
# Development default under var/; on a mail host typically /var/vmail. Deleted mailboxes are
# moved to MAIL_STORE/.archive/<domain>/<local part>-<UTC timestamp>/ by `manage.py mailstore run`
# and removed MAIL_ARCHIVE_GRACE_DAYS later; until then they can be restored.
MAIL_STORE = Path(env.str("MAIL_STORE", default=str(VAR_DIR / "mail")))
MAIL_ARCHIVE_GRACE_DAYS = env.int("MAIL_ARCHIVE_GRACE_DAYS", default=30)
# How long the usage job keeps the storage history of domains and mailboxes (the statistics pages).
MAIL_USAGE_HISTORY_DAYS = env.int("MAIL_USAGE_HISTORY_DAYS", default=730)
# ... and by hour, for the last days.
MAIL_USAGE_HOURLY_DAYS = env.int("MAIL_USAGE_HOURLY_DAYS", default=2)
# A welcome message sent to each new mailbox (so Dovecot creates its maildir at once);
# an empty subject sends none. Sent through EMAIL_HOST:EMAIL_PORT (the local MTA).
MAIL_WELCOME_SUBJECT = env.str("MAIL_WELCOME_SUBJECT", default="")
MAIL_WELCOME_BODY = env.str("MAIL_WELCOME_BODY", default="Welcome to your new mailbox.")
MAIL_WELCOME_FROM = env.str("MAIL_WELCOME_FROM", default="postmaster@localhost")
# These become header lines of messages the server writes: one line each, no control characters.
for _name in ("VACATION_DEFAULT_SUBJECT", "MAIL_WELCOME_SUBJECT", "MAIL_WELCOME_FROM"):
    if any(ord(ch) < 32 or ord(ch) == 127 for ch in globals()[_name]):
        raise ImproperlyConfigured(f"{_name}: a header value must be one line without control characters.")

# --- Exim and Dovecot configuration (issue 3: `manage.py render_mailconfig`) -----------
# Values the rendered deploy/exim and deploy/dovecot templates are built from; every one can
# also be overridden on the command line (--set NAME=VALUE). Debian's paths and names by default.
# The database the mail servers read is DATABASES["default"] unless MAIL_LOOKUP_DATABASE_URL is set
# (e.g. a replica); the lookup users' passwords come from `manage.py lookup_users create --json`
# (render_mailconfig --credentials FILE) or from these variables. MAIL_LOOKUP_REPLICA_URLS: a mail
# host's replicas of that database, nearest first, read before it (deploy/README.md, "Several mail
# hosts"); usually set per host with render_mailconfig --set.
MAIL_LOOKUP_DATABASE_URL = env.str("MAIL_LOOKUP_DATABASE_URL", default="")
MAIL_LOOKUP_REPLICA_URLS = env.list("MAIL_LOOKUP_REPLICA_URLS", default=[])
LOOKUP_EXIM_PASSWORD = env.str("LOOKUP_EXIM_PASSWORD", default="")
LOOKUP_DOVECOT_PASSWORD = env.str("LOOKUP_DOVECOT_PASSWORD", default="")
LOOKUP_GREYLIST_PASSWORD = env.str("LOOKUP_GREYLIST_PASSWORD", default="")
MAIL_HOSTNAME = env.str("MAIL_HOSTNAME", default="mail.example.org")
MAIL_STORE_USER = env.str("MAIL_STORE_USER", default="vmail")
# The panel's systemd units (deploy/systemd/): the user they run as and the checkout they run from.
MAIL_PANEL_USER = env.str("MAIL_PANEL_USER", default="mailadmin")
MAIL_PANEL_DIRECTORY = env.str("MAIL_PANEL_DIRECTORY", default=str(BASE_DIR))
MAIL_STORE_GROUP = env.str("MAIL_STORE_GROUP", default="vmail")
MAIL_LISTEN_ADDRESSES = env.list("MAIL_LISTEN_ADDRESSES", default=[])  # empty: every address
MAIL_SMTP_PORT = env.int("MAIL_SMTP_PORT", default=25)
MAIL_SUBMISSION_PORT = env.int("MAIL_SUBMISSION_PORT", default=587)
MAIL_SMTPS_PORT = env.int("MAIL_SMTPS_PORT", default=465)
MAIL_IMAP_PORT = env.int("MAIL_IMAP_PORT", default=143)
MAIL_IMAPS_PORT = env.int("MAIL_IMAPS_PORT", default=993)
MAIL_POP3_PORT = env.int("MAIL_POP3_PORT", default=110)
MAIL_POP3S_PORT = env.int("MAIL_POP3S_PORT", default=995)
MAIL_TLS_CERTIFICATE = env.str("MAIL_TLS_CERTIFICATE", default="/etc/ssl/certs/ssl-cert-snakeoil.pem")
MAIL_TLS_PRIVATE_KEY = env.str("MAIL_TLS_PRIVATE_KEY", default="/etc/ssl/private/ssl-cert-snakeoil.key")
MAIL_MESSAGE_SIZE_LIMIT = env.str("MAIL_MESSAGE_SIZE_LIMIT", default="50M")
# clamd: a unix socket path or "HOST PORT"; spamd: "HOST PORT" or a socket path. Empty: no check.
MAIL_CLAMD = env.str("MAIL_CLAMD", default="127.0.0.1 3310")
MAIL_SPAMD = env.str("MAIL_SPAMD", default="127.0.0.1 783")
MAIL_SPAM_TAG_SCORE = env.float("MAIL_SPAM_TAG_SCORE", default=5.0)
MAIL_SPAM_REJECT_SCORE = env.float("MAIL_SPAM_REJECT_SCORE", default=10.0)
# Outgoing mail: empty sends by DNS MX; "host::port" (Exim's route_list form) uses a smarthost.
MAIL_SMARTHOST = env.str("MAIL_SMARTHOST", default="")
MAIL_EXIM_USER = env.str("MAIL_EXIM_USER", default="Debian-exim")
MAIL_EXIM_SPOOL_DIRECTORY = env.str("MAIL_EXIM_SPOOL_DIRECTORY", default="/var/spool/exim4")
MAIL_EXIM_LOG_FILE_PATH = env.str("MAIL_EXIM_LOG_FILE_PATH", default="/var/log/exim4/%slog")
MAIL_VACATION_DIRECTORY = env.str("MAIL_VACATION_DIRECTORY", default="/var/spool/exim4/vacation")
# DKIM: the directory `manage.py dkim install` writes the signing keys to and Exim reads them
# from (<domain>/<selector>.pem, <domain>/selectors); a retired key stays in the DNS records
# for MAIL_DKIM_GRACE_DAYS (domains/dkim.py).
MAIL_DKIM_DIRECTORY = env.str("MAIL_DKIM_DIRECTORY", default="/etc/exim4/dkim")
MAIL_DKIM_GRACE_DAYS = env.int("MAIL_DKIM_GRACE_DAYS", default=7)
# The DNS checker (`manage.py dns --check`) asks these resolvers (empty: the system's, from
# /etc/resolv.conf), on this port, giving up on a name after MAIL_DNS_TIMEOUT seconds.
MAIL_DNS_RESOLVERS = env.list("MAIL_DNS_RESOLVERS", default=[])
MAIL_DNS_PORT = env.int("MAIL_DNS_PORT", default=53)
MAIL_DNS_TIMEOUT = env.float("MAIL_DNS_TIMEOUT", default=5.0)
# MTA-STS (RFC 8461): the mode of the policy every hosted domain publishes at
# https://mta-sts.<domain>/.well-known/mta-sts.txt ("testing" reports, "enforce" refuses
# plain or unverified delivery), and the host those names and autoconfig/autodiscover point to.
MAIL_MTA_STS_MODE = env.str("MAIL_MTA_STS_MODE", default="testing")
MAIL_PANEL_HOSTNAME = env.str("MAIL_PANEL_HOSTNAME", default="") or MAIL_HOSTNAME
if MAIL_MTA_STS_MODE not in ("testing", "enforce", "none"):
    raise ImproperlyConfigured("MAIL_MTA_STS_MODE: one of testing, enforce, none (RFC 8461).")
MAIL_DOVECOT_BASE_DIR = env.str("MAIL_DOVECOT_BASE_DIR", default="/run/dovecot")
MAIL_DOVECOT_STATE_DIR = env.str("MAIL_DOVECOT_STATE_DIR", default="/var/lib/dovecot")
MAIL_DOVECOT_INSTANCE_NAME = env.str("MAIL_DOVECOT_INSTANCE_NAME", default="dovecot")
MAIL_DOVECOT_LOG_PATH = env.str("MAIL_DOVECOT_LOG_PATH", default="syslog")
MAIL_DOVECOT_CONFIG_DIR = env.str("MAIL_DOVECOT_CONFIG_DIR", default="/etc/dovecot")
MAIL_DOVECOT_FIRST_VALID_UID = env.int("MAIL_DOVECOT_FIRST_VALID_UID", default=500)
# The user Dovecot's auth workers run as (they read the directory; never root).
MAIL_DOVECOT_AUTH_USER = env.str("MAIL_DOVECOT_AUTH_USER", default="dovecot")
# Seconds a lookup may wait for the database before Dovecot answers a temporary failure.
MAIL_LOOKUP_TIMEOUT = env.int("MAIL_LOOKUP_TIMEOUT", default=5)
# Dovecot's login and mail processes (deploy/dovecot/conf.d/10-master.conf): "performance" keeps
# MAIL_DOVECOT_LOGIN_PROCESSES login processes (one per CPU core of the mail host) serving many
# connections each, and reuses an IMAP or POP3 process for up to 100 sessions; "security" is
# Dovecot's high-security mode, a new process for every connection (about a third of the logins
# per second: bench/app_passwords.py).
MAIL_DOVECOT_LOGIN_MODE = env.str("MAIL_DOVECOT_LOGIN_MODE", default="performance")
MAIL_DOVECOT_LOGIN_PROCESSES = env.int("MAIL_DOVECOT_LOGIN_PROCESSES", default=2)
# How long Dovecot may keep using a cached password or login flag after it changed in the panel.
MAIL_AUTH_CACHE_TTL = env.str("MAIL_AUTH_CACHE_TTL", default="60 s")
# Slowing down repeated failed logins (Dovecot's auth_failure_delay and anvil penalty); tests turn it off.
MAIL_AUTH_FAILURE_DELAY = env.str("MAIL_AUTH_FAILURE_DELAY", default="2 s")
MAIL_AUTH_PENALTY = env.bool("MAIL_AUTH_PENALTY", default=True)
# SMTP AUTH: a client address with more failed logins than this in 10 minutes is disconnected (0: off).
MAIL_AUTH_FAILURE_LIMIT = env.int("MAIL_AUTH_FAILURE_LIMIT", default=10)
# Exim: for this many seconds after a message came in, its delivery to a recipient the RCPT found to
# be a plain mailbox (no forwarding, vacation reply or alias) goes to the mailbox without asking the
# directory again (deploy/exim/20-routers.conf, "received_mailbox"); 0: every delivery asks.
MAIL_ROUTE_FROM_RCPT_SECONDS = env.int("MAIL_ROUTE_FROM_RCPT_SECONDS", default=60)

# REST API (api/): requests per minute per token (over it: 429 with Retry-After).
API_RATE_LIMIT_PER_MINUTE = env.int("API_RATE_LIMIT_PER_MINUTE", default=600)
