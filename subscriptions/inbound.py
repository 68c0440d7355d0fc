"""Cancellations sent by email to TCD's admin mailbox.

The mail provider's webhook turns a message into an ``InboundMessage``; from
there on nothing depends on the provider. ``inbound_email_receive`` stores the
message, then decides: a cancellation is registered only when the sender's
address passes the provider's authentication, belongs to an admin of an
organisation, and the message names exactly one ICMS account, of that
organisation, that can still be cancelled. Anything else waits for TCD in the
review queue with the reason.
"""

import hashlib
import logging
import re
from dataclasses import dataclass
from datetime import datetime
from email.utils import parseaddr

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models.functions import Lower
from django.utils import timezone

from accounts.models import Role, User

from .models import (
    CancellationChannel,
    IcmsAccount,
    InboundEmail,
    InboundEmailReason,
    InboundEmailStatus,
    SubscriptionStatus,
)

logger = logging.getLogger(__name__)

# Words that could be an ICMS user name: the same characters user names use.
CANDIDATE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._@-]*[A-Za-z0-9]")


class Authentication:
    PASS = "pass"  # noqa: S105 - a verdict, not a password
    FAIL = "fail"
    NONE = "none"


@dataclass(frozen=True)
class InboundMessage:
    message_id: str
    received_at: datetime
    sender: str
    subject: str = ""
    text: str = ""
    authentication: str = Authentication.NONE


def authentication_verdict(headers, spam_detected=False, trusted_authserv_id=None):
    """Pass only when the mail provider itself vouches for the sender's domain.

    Anyone can write an ``Authentication-Results`` header into a message, so
    only the topmost one counts (receiving servers add theirs on top), and only
    when it carries the provider's own authserv-id (``INBOUND_AUTHSERV_ID``):
    DMARC pass, or SPF and DKIM both pass. Without it, the topmost
    ``Received-SPF`` decides. A message the provider flagged as spam fails.
    """
    if spam_detected:
        return Authentication.FAIL
    if trusted_authserv_id is None:
        trusted_authserv_id = settings.INBOUND_AUTHSERV_ID
    results = _topmost(headers, "authentication-results").lower()
    authserv_id = results.split(";", 1)[0].strip()
    if results and trusted_authserv_id and authserv_id == trusted_authserv_id.lower():
        if re.search(r"\bdmarc=pass\b", results):
            return Authentication.PASS
        if re.search(r"\bspf=pass\b", results) and re.search(r"\bdkim=pass\b", results):
            return Authentication.PASS
        return Authentication.FAIL
    spf = _topmost(headers, "received-spf").lower()
    if spf.startswith("pass"):
        return Authentication.PASS
    if spf:
        return Authentication.FAIL
    return Authentication.NONE


def _topmost(headers, name):
    return next((value for key, value in headers if key.lower() == name), "").strip()


def message_identity(message_id, sender, subject, text):
    """The message's own Message-ID, or a digest of it when it has none."""
    message_id = (message_id or "").strip()
    if message_id:
        return message_id[:300]
    digest = hashlib.sha256("\n".join([sender, subject, text]).encode()).hexdigest()
    return f"sha256:{digest}"


def inbound_email_store(message: InboundMessage):
    """Keep the message; the second delivery of the same one returns the first."""
    name, address = parseaddr(message.sender or "")
    try:
        with transaction.atomic():
            return InboundEmail.objects.create(
                message_id=message.message_id,
                received_at=message.received_at,
                sender_address=address.strip().lower(),
                sender_name=name[:200],
                subject=(message.subject or "")[:500],
                body_text=message.text or "",
                authentication=message.authentication,
            ), True
    except IntegrityError:
        return InboundEmail.objects.get(message_id=message.message_id), False


def inbound_email_receive(message: InboundMessage):
    """Store a message and process it. Safe to call again for the same one."""
    inbound, _created = inbound_email_store(message)
    inbound_email_process(inbound=inbound)
    inbound.refresh_from_db()
    return inbound


def inbound_email_store_unparseable(*, message_id, received_at, sender, subject, raw):
    inbound, _created = inbound_email_store(
        InboundMessage(
            message_id=message_id,
            received_at=received_at,
            sender=sender,
            subject=subject,
            text=raw[:20000],
        )
    )
    InboundEmail.objects.filter(
        pk=inbound.pk, status=InboundEmailStatus.RECEIVED
    ).update(status=InboundEmailStatus.REVIEW, reason=InboundEmailReason.UNPARSEABLE)
    return inbound


def _named_accounts(inbound):
    words = {
        word.lower()
        for word in CANDIDATE.findall(f"{inbound.subject}\n{inbound.body_text}")
    }
    if not words:
        return []
    return list(
        IcmsAccount.objects.annotate(username_lower=Lower("username"))
        .filter(username_lower__in=words)
        .select_related("organisation", "subscription")
    )


def _decide(inbound):
    """Return ``(reason, sender, account)``; reason is empty when all is well."""
    if inbound.authentication != Authentication.PASS:
        return InboundEmailReason.AUTHENTICATION_FAILED, None, None
    sender = User.objects.filter(
        email__iexact=inbound.sender_address,
        role=Role.ORGANISATION_ADMIN,
        is_active=True,
    ).first()
    if sender is None:
        return InboundEmailReason.UNKNOWN_SENDER, None, None
    accounts = _named_accounts(inbound)
    if not accounts:
        return InboundEmailReason.NO_ACCOUNT, sender, None
    if len(accounts) > 1:
        return InboundEmailReason.SEVERAL_ACCOUNTS, sender, None
    account = accounts[0]
    if account.organisation_id != sender.organisation_id:
        return InboundEmailReason.OTHER_ORGANISATION, sender, None
    subscription = getattr(account, "subscription", None)
    if (
        subscription is None
        or subscription.status != SubscriptionStatus.ACTIVE
        or subscription.active_cancellation() is not None
    ):
        return InboundEmailReason.NOT_CANCELLABLE, sender, account
    return "", sender, account


@transaction.atomic
def inbound_email_process(*, inbound):
    """Register the cancellation a stored message asks for, or queue it for review."""
    from .services import subscription_cancel

    inbound = InboundEmail.objects.select_for_update().get(pk=inbound.pk)
    if inbound.status != InboundEmailStatus.RECEIVED:
        return inbound
    reason, sender, account = _decide(inbound)
    if reason:
        inbound.status = InboundEmailStatus.REVIEW
        inbound.reason = reason
        inbound.save(update_fields=["status", "reason"])
        logger.info("Inbound email %s waits for review: %s", inbound.pk, reason)
        return inbound
    cancellation = subscription_cancel(
        subscription=account.subscription,
        channel=CancellationChannel.EMAIL,
        received_at=inbound.received_at,
        registered_by=sender,
        sender_email=sender.email,
    )
    inbound.status = InboundEmailStatus.REGISTERED
    inbound.cancellation = cancellation
    inbound.save(update_fields=["status", "cancellation"])
    return inbound


def inbound_emails_process_pending():
    """Process every stored message still waiting, e.g. after a crash."""
    done = 0
    for inbound in InboundEmail.objects.filter(status=InboundEmailStatus.RECEIVED):
        try:
            inbound_email_process(inbound=inbound)
            done += 1
        except Exception:
            logger.exception("Inbound email %s could not be processed", inbound.pk)
    return done


def from_anymail(event):
    """Turn anymail's inbound event into an ``InboundMessage``."""
    message = event.message
    sender = str(message.from_email) if message.from_email else ""
    text = message.text or ""
    subject = message.subject or ""
    headers = list(message.items())
    return InboundMessage(
        message_id=message_identity(
            message.get("Message-ID") or event.event_id, sender, subject, text
        ),
        received_at=timezone.now(),
        sender=sender,
        subject=subject,
        text=text,
        authentication=authentication_verdict(headers, bool(message.spam_detected)),
    )
