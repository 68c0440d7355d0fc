"""The production settings pass Django's deployment checks."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

PRODUCTION_ENVIRONMENT = {
    "DJANGO_SETTINGS_MODULE": "icms_portal.settings.production",
    "SECRET_KEY": "x" * 20 + "a-long-random-production-secret-key-0123456789",
    "ALLOWED_HOSTS": "portal.example.be",
    "DATABASE_URL": "postgres://postgres@127.0.0.1:5432/icms_portal",
    "CELERY_BROKER_URL": "redis://127.0.0.1:6379/0",
    "EMAIL_BACKEND": "anymail.backends.postmark.EmailBackend",
    "ANYMAIL_WEBHOOK_SECRET": "postmark:a-long-random-webhook-password",
}


def _manage(*arguments, environment):
    clean = {
        key: value
        for key, value in os.environ.items()
        if key not in PRODUCTION_ENVIRONMENT and key != "DJANGO_ALLOW_ASYNC_UNSAFE"
    }
    return subprocess.run(  # noqa: S603 - our own manage.py, fixed arguments
        [sys.executable, "manage.py", *arguments],
        cwd=ROOT,
        env={**clean, **environment},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_it_passes_the_deployment_checks_under_the_production_settings():
    result = _manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        environment=PRODUCTION_ENVIRONMENT,
    )

    assert result.returncode == 0, result.stdout + result.stderr


def test_it_refuses_to_start_in_production_without_a_secret_key():
    environment = {
        key: value
        for key, value in PRODUCTION_ENVIRONMENT.items()
        if key != "SECRET_KEY"
    }

    result = _manage("check", environment=environment)

    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr
