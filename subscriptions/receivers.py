"""The mail provider's inbound webhook, as anymail delivers it."""

import hashlib
import json
import logging

from anymail.signals import AnymailInboundEvent, EventType, inbound
from anymail.webhooks.postmark import PostmarkInboundWebhookView
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


class PostmarkInboundWebhook(PostmarkInboundWebhookView):
    """Postmark's inbound webhook, keeping the payloads anymail cannot read.

    Anymail refuses a payload that is not JSON, or whose sender address it
    cannot parse, before any receiver sees it: the webhook would answer 500
    until Postmark gives up, and the message would be lost. Here such a payload
    reaches the receiver without a message, which keeps it for review.
    """

    def parse_events(self, request):
        try:
            return super().parse_events(request)
        except (ValueError, KeyError, TypeError, AttributeError):
            logger.warning("Inbound webhook payload not understood", exc_info=True)
        body = request.body.decode("utf-8", errors="replace")
        try:
            esp_event = json.loads(body)
        except ValueError:
            esp_event = None
        if not isinstance(esp_event, dict):
            esp_event = {"RawBody": body[:20000]}
        # Postmark posts the same message again with the same body, so the
        # digest stores a retried delivery once.
        event_id = esp_event.get("MessageID") or (
            "sha256:" + hashlib.sha256(request.body).hexdigest()
        )
        return [
            AnymailInboundEvent(
                event_type=EventType.INBOUND,
                timestamp=None,
                event_id=str(event_id),
                esp_event=esp_event,
                message=None,
            )
        ]
