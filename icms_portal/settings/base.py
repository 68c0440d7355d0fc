"""Settings shared by every environment.

Each value comes from the environment through django-environ. The defaults here
are the embedded development ones: SQLite, jobs run in-process, emails written
to a folder. ``production.py`` removes the defaults that must never reach a
server.
"""

from pathlib import Path

import environ
from celery.schedules import crontab
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent.parent
VAR_DIR = BASE_DIR / "var"

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

SECRET_KEY = env("SECRET_KEY", default="development-only-key-never-used-in-production")
DEBUG = env.bool("DEBUG", default=False)
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])
SITE_URL = env("SITE_URL", default="http://127.0.0.1:8000").rstrip("/")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "anymail",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "axes",
    "csp",
    "accounts",
    "audit",
    "notifications",
    "orders",
    "subscriptions",
    "invoicing",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "accounts.middleware.SessionLimitsMiddleware",
    "accounts.middleware.SecondFactorRequiredMiddleware",
    "accounts.middleware.UserLanguageMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    # Last, as django-axes asks.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "icms_portal.urls"
WSGI_APPLICATION = "icms_portal.wsgi.application"

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
                "django.template.context_processors.i18n",
            ],
            "builtins": ["icms_portal.templatetags.portal"],
        },
    },
]

DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'demo.sqlite3'}"),
}
DATABASES["default"]["ATOMIC_REQUESTS"] = False
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "accounts.User"
# Email addresses are unique without regard to case, by a constraint on
# Lower(email) that this check does not see.
SILENCED_SYSTEM_CHECKS = ["auth.W004"]
AUTHENTICATION_BACKENDS = [
    # First, so that a locked-out account or address is refused before its
    # password is even checked.
    "axes.backends.AxesStandaloneBackend",
    "accounts.backends.EmailBackend",
]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "accounts:login"

AUTH_PASSWORD_VALIDATORS = [
    {
        "NAME": "django.contrib.auth.password_validation."
        "UserAttributeSimilarityValidator"
    },
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en"
LANGUAGES = [("nl", _("Dutch")), ("fr", _("French")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
FORMAT_MODULE_PATH = ["icms_portal.formats"]
TIME_ZONE = "Europe/Brussels"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = env.path("STATIC_ROOT", default=str(VAR_DIR / "staticfiles"))
MEDIA_ROOT = env.path("MEDIA_ROOT", default=str(VAR_DIR / "media"))
MEDIA_URL = "media/"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

# Sessions end after 30 minutes without a request, and 12 hours after the
# login whatever happens (SessionLimitsMiddleware).
SESSION_COOKIE_AGE = env.int("SESSION_IDLE_SECONDS", default=30 * 60)
SESSION_SAVE_EVERY_REQUEST = True
SESSION_ABSOLUTE_SECONDS = env.int("SESSION_ABSOLUTE_SECONDS", default=12 * 3600)
# How long a password re-entry counts for the sensitive changes that ask one.
REAUTHENTICATION_SECONDS = 5 * 60
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"

# A strict Content-Security-Policy: the pages use no inline script or style.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'none'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
        "base-uri": ["'none'"],
    }
}

# Every portal user confirms their login with a second factor: an
# authenticator app (TOTP) or one of their recovery codes.
SECOND_FACTOR_REQUIRED = env.bool("SECOND_FACTOR_REQUIRED", default=True)
OTP_TOTP_ISSUER = env("OTP_TOTP_ISSUER", default="ICMS access portal")
RECOVERY_CODES = 10

# Brute force: after AXES_FAILURE_LIMIT failed logins on one account, or from
# one client address, further attempts are refused for AXES_COOLOFF_TIME;
# staff can unlock earlier (Django admin, or manage.py axes_reset_username).
# The client address is the one accounts.permissions.client_address derives
# from TRUSTED_PROXY_COUNT, never a raw X-Forwarded-For.
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = env.float("AXES_COOLOFF_HOURS", default=0.25)
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_RESET_ON_SUCCESS = True
AXES_CLIENT_IP_CALLABLE = "accounts.permissions.client_address"
AXES_USERNAME_CALLABLE = "accounts.permissions.login_username"
AXES_LOCKOUT_TEMPLATE = "accounts/locked_out.html"
AXES_HTTP_RESPONSE_CODE = 429
# How many proxies the portal runs behind, each appending to X-Forwarded-For.
# 0: the client address is REMOTE_ADDR.
TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=0)

# Email. Without EMAIL_BACKEND every message is written as a file under
# var/mail, so a demo needs no mail server. In production set an anymail
# backend, for example anymail.backends.postmark.EmailBackend, and its keys
# as ANYMAIL_<KEY> variables (ANYMAIL_POSTMARK_SERVER_TOKEN=...).
EMAIL_BACKEND = env(
    "EMAIL_BACKEND", default="django.core.mail.backends.filebased.EmailBackend"
)
EMAIL_FILE_PATH = env.path("EMAIL_FILE_PATH", default=str(VAR_DIR / "mail"))
ANYMAIL = {
    key.removeprefix("ANYMAIL_"): value
    for key, value in env.ENVIRON.items()
    if key.startswith("ANYMAIL_")
}
DEFAULT_FROM_EMAIL = env(
    "DEFAULT_FROM_EMAIL", default="ICMS portal <portal@example.org>"
)
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# The two mailboxes of the ordering procedure. Every completed order form
# reaches both.
ICMS_CELL_MAILBOX = env("ICMS_CELL_MAILBOX", default="icms-cell@example.org")
TCD_MAILBOX = env("TCD_MAILBOX", default="icms-admin@tcd.example.com")
HELPDESK_MAILBOX = env("HELPDESK_MAILBOX", default="helpdesk@tcd.example.com")
# The authserv-id with which the inbound mail provider signs the
# Authentication-Results header it adds; other such headers are not trusted.
INBOUND_AUTHSERV_ID = env("INBOUND_AUTHSERV_ID", default="")
# The language of the emails these mailboxes receive: nl, fr or en.
MAILBOX_LANGUAGE = env("MAILBOX_LANGUAGE", default="en")

# The supplier as it appears on every invoice. The details are copied onto an
# invoice when it is issued, so changing them never alters an issued one.
SUPPLIER = {
    "name": env("SUPPLIER_NAME", default="TCD Crisis Systems"),
    "legal_form": env("SUPPLIER_LEGAL_FORM", default="NV"),
    "street": env("SUPPLIER_STREET", default="Koningsstraat 100"),
    "postcode": env("SUPPLIER_POSTCODE", default="1000"),
    "city": env("SUPPLIER_CITY", default="Brussel"),
    "country": env("SUPPLIER_COUNTRY", default="BE"),
    "enterprise_number": env("SUPPLIER_ENTERPRISE_NUMBER", default="0403170701"),
    "register": env("SUPPLIER_REGISTER", default="RPR Brussel"),
    "iban": env("SUPPLIER_IBAN", default="BE71096123456769"),
    "bic": env("SUPPLIER_BIC", default="GKCCBEBB"),
    "email": env("SUPPLIER_EMAIL", default="invoices@tcd.example.com"),
}
INVOICE_PAYMENT_TERM_DAYS = env.int("INVOICE_PAYMENT_TERM_DAYS", default=30)

# Organisation admins are reminded this many days before each last day to
# cancel an access.
CANCELLATION_REMINDER_DAYS = env.int("CANCELLATION_REMINDER_DAYS", default=30)

# Background jobs. Without a broker every task runs in the web process at the
# moment it is queued, which is what the demo wants.
CELERY_BROKER_URL = env("CELERY_BROKER_URL", default="")
CELERY_TASK_ALWAYS_EAGER = not CELERY_BROKER_URL
if CELERY_TASK_ALWAYS_EAGER:
    CELERY_BROKER_URL = "memory://"
CELERY_TASK_EAGER_PROPAGATES = False
CELERY_TIMEZONE = TIME_ZONE
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_IGNORE_RESULT = True
# Celery beat runs in Europe/Brussels, every job outside 02:00-03:00, the hour
# that a change of daylight saving time skips or repeats. Run exactly one beat
# process; workers can be many.
EVERY_HOUR_BUT_THE_DAYLIGHT_SAVING_HOUR = "0-1,3-23"
CELERY_BEAT_SCHEDULE = {
    "end-cancelled-subscriptions": {
        "task": "subscriptions.tasks.job_run",
        "schedule": crontab(hour=4, minute=0),
        "args": ["end-cancelled-subscriptions"],
    },
    "renewals": {
        "task": "subscriptions.tasks.renewals_run",
        "schedule": crontab(hour=4, minute=30),
    },
    "send-cancellation-reminders": {
        "task": "subscriptions.tasks.job_run",
        "schedule": crontab(hour=7, minute=30),
        "args": ["send-cancellation-reminders"],
    },
    "send-renewal-summary": {
        "task": "subscriptions.tasks.job_run",
        "schedule": crontab(hour=7, minute=45, day_of_week="mon"),
        "args": ["send-renewal-summary"],
    },
    "send-personal-data-review-reminders": {
        "task": "subscriptions.tasks.job_run",
        "schedule": crontab(hour=8, minute=0),
        "args": ["send-personal-data-review-reminders"],
    },
    "escalate-overdue-personal-data-reviews": {
        "task": "subscriptions.tasks.job_run",
        "schedule": crontab(hour=8, minute=15),
        "args": ["escalate-overdue-personal-data-reviews"],
    },
    "review-inbound-email": {
        "task": "subscriptions.tasks.inbound_email_review",
        "schedule": crontab(minute=20, hour=EVERY_HOUR_BUT_THE_DAYLIGHT_SAVING_HOUR),
    },
    # Invoice runs whose worker stopped half-way.
    "invoice-runs-resume": {
        "task": "invoicing.tasks.invoice_runs_resume",
        "schedule": crontab(
            minute="5,35", hour=EVERY_HOUR_BUT_THE_DAYLIGHT_SAVING_HOUR
        ),
    },
    # Emails whose first attempt failed (mail server or broker down).
    "outgoing-email-flush": {
        "task": "notifications.tasks.outgoing_email_flush",
        "schedule": crontab(
            minute="*/10", hour=EVERY_HOUR_BUT_THE_DAYLIGHT_SAVING_HOUR
        ),
    },
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}
    },
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", default="INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        "weasyprint": {"level": "WARNING"},
        "celery": {"level": "WARNING"},
        "kombu": {"level": "ERROR"},
        "axes": {"level": "WARNING"},
        "fontTools": {"level": "WARNING"},
    },
}
