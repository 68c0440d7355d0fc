"""Settings for the test suite: always the real PostgreSQL, never SQLite."""

from .base import *  # noqa: F403

DATABASES = {
    "default": env.db(  # noqa: F405
        "DATABASE_URL", default="postgres://postgres@127.0.0.1:5432/icms_portal"
    )
}
if DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql":
    raise RuntimeError("The test suite runs on PostgreSQL only; set DATABASE_URL.")

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
MEDIA_ROOT = VAR_DIR / "test-media"  # noqa: F405
CELERY_BROKER_URL = env(  # noqa: F405
    "CELERY_TEST_BROKER_URL", default="redis://127.0.0.1:6379/15"
)
CELERY_TASK_ALWAYS_EAGER = True
STORAGES = {
    **STORAGES,  # noqa: F405
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
INBOUND_AUTHSERV_ID = "inbound.postmarkapp.com"
ANYMAIL = {**ANYMAIL, "WEBHOOK_SECRET": "inbound:test-webhook-secret"}  # noqa: F405
