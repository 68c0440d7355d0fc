"""The mail provider's inbound webhook, as anymail delivers it."""

import logging

from anymail.signals import inbound
from django.dispatch import receiver
from django.utils import timezone

from .inbound import (
    from_anymail,
    inbound_email_receive,
    inbound_email_store_unparseable,
)

logger = logging.getLogger(__name__)


@receiver(inbound, dispatch_uid="subscriptions.inbound_cancellation")
def inbound_cancellation_received(sender, event, esp_name, **kwargs):
    try:
        message = from_anymail(event)
    except Exception:
        logger.warning(
            "Inbound email from %s could not be parsed", esp_name, exc_info=True
        )
        raw = event.esp_event if isinstance(event.esp_event, dict) else {}
        inbound_email_store_unparseable(
            message_id=f"{esp_name}:{event.event_id or timezone.now().isoformat()}",
            received_at=timezone.now(),
            sender=str(raw.get("From", ""))[:320],
            subject=str(raw.get("Subject", ""))[:500],
            raw=repr(raw),
        )
        return
    inbound_email_receive(message)
