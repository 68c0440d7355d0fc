"""The demo and development settings: ``make demo`` uses these."""

from .base import *  # noqa: F403

DEBUG = env.bool("DEBUG", default=True)  # noqa: F405

# The embedded defaults keep their database, mail and files under var/.
VAR_DIR.mkdir(exist_ok=True)  # noqa: F405

# The inbound webhook's basic-auth credentials for the demo; production sets
# its own through ANYMAIL_WEBHOOK_SECRET.
ANYMAIL.setdefault("WEBHOOK_SECRET", "inbound:demo-webhook-secret")  # noqa: F405
