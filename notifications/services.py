import logging
from datetime import timedelta

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.template.loader import render_to_string
from django.utils import timezone, translation

from .attachments import attachment_produce
from .models import OutgoingEmail, OutgoingEmailStatus

logger = logging.getLogger(__name__)

# A row claimed this long ago and still not sent belongs to a worker that died.
CLAIM_EXPIRY = timedelta(minutes=10)

WIPED = "(removed after sending: it held a one-time link)\n"


def email_queue(
    *, key, template, to, language, context, attachments=(), sensitive=False
):
    """Write an email to the outbox and send it once the transaction commits.

    ``template`` names a folder under ``templates/emails/`` holding
    ``subject.txt``, ``body.txt`` and ``body.html``; all three render in
    ``language``. Queuing the same ``key`` twice returns the first email. A
    ``sensitive`` email (one holding a one-time link) has its body wiped from
    the outbox once it is sent.
    """
    existing = OutgoingEmail.objects.filter(key=key).first()
    if existing is not None:
        return existing

    context = {"site_url": settings.SITE_URL, **context}
    with translation.override(language):
        subject = render_to_string(f"emails/{template}/subject.txt", context)
        body_text = render_to_string(f"emails/{template}/body.txt", context)
        body_html = render_to_string(f"emails/{template}/body.html", context)

    try:
        # A savepoint, so that a job queuing the same key at the same moment
        # in another connection loses cleanly instead of breaking the caller's
        # transaction.
        with transaction.atomic():
            email = OutgoingEmail.objects.create(
                key=key,
                template=template,
                language=language,
                to=sorted(set(to)),
                subject=" ".join(subject.split()),
                body_text=body_text.strip() + "\n",
                body_html=body_html,
                attachments=list(attachments),
                sensitive=sensitive,
            )
    except IntegrityError:
        return OutgoingEmail.objects.get(key=key)
    transaction.on_commit(lambda: _enqueue(email.pk))
    return email


def _enqueue(email_pk):
    from .tasks import outgoing_email_send

    try:
        outgoing_email_send.delay(email_pk)
    except Exception:
        # The broker is away. The row stays pending and the periodic flush
        # sends it later.
        logger.warning("Could not queue outgoing email %s", email_pk, exc_info=True)


def outgoing_email_claim(*, email_pk):
    """Take the email for sending. True only for the one caller that got it."""
    now = timezone.now()
    claimable = OutgoingEmail.objects.filter(pk=email_pk).filter(_claimable(now))
    return claimable.update(status=OutgoingEmailStatus.SENDING, claimed_at=now) == 1


def _claimable(now):
    return Q(status=OutgoingEmailStatus.PENDING) | Q(
        status=OutgoingEmailStatus.SENDING, claimed_at__lt=now - CLAIM_EXPIRY
    )


def outgoing_email_send(*, email_pk):
    """Send one outbox email if nobody else is sending it or has sent it.

    Raises the transport's error after putting the row back to pending, so the
    caller (a Celery task) can retry.
    """
    if not outgoing_email_claim(email_pk=email_pk):
        return False
    email = OutgoingEmail.objects.get(pk=email_pk)
    try:
        message = EmailMultiAlternatives(
            subject=email.subject,
            body=email.body_text,
            from_email=settings.DEFAULT_FROM_EMAIL,
            to=email.to,
        )
        if email.body_html:
            message.attach_alternative(email.body_html, "text/html")
        for reference in email.attachments:
            message.attach(*attachment_produce(reference))
        message.send()
    except Exception as error:
        OutgoingEmail.objects.filter(pk=email_pk).update(
            status=OutgoingEmailStatus.PENDING,
            attempts=email.attempts + 1,
            last_error=f"{type(error).__name__}: {error}"[:2000],
            claimed_at=None,
        )
        logger.warning("Outgoing email %s failed: %s", email_pk, type(error).__name__)
        raise
    wiped = {"body_text": WIPED, "body_html": ""} if email.sensitive else {}
    OutgoingEmail.objects.filter(pk=email_pk).update(
        status=OutgoingEmailStatus.SENT,
        attempts=email.attempts + 1,
        sent_at=timezone.now(),
        last_error="",
        **wiped,
    )
    logger.info("Outgoing email %s sent (%s)", email_pk, email.template)
    return True


def outgoing_email_flush():
    """Send every email still pending, for example after the mail server was down."""
    now = timezone.now()
    due = OutgoingEmail.objects.filter(_claimable(now)).values_list("pk", flat=True)
    sent = 0
    for email_pk in list(due):
        try:
            sent += outgoing_email_send(email_pk=email_pk)
        except Exception:  # noqa: S112
            # Logged by outgoing_email_send; the row stays pending for next time.
            continue
    return sent


def organisation_email_queue(*, key, template, organisation, context, attachments=()):
    """Queue an email to every active admin of an organisation, in its language."""
    from accounts.selectors import organisation_admin_emails

    recipients = organisation_admin_emails(organisation)
    if not recipients:
        return None
    return email_queue(
        key=key,
        template=template,
        to=recipients,
        language=organisation.language,
        context={"organisation": organisation, **context},
        attachments=attachments,
    )


def mailbox_email_queue(*, key, template, mailboxes, context, attachments=()):
    """Queue an email to procedure mailboxes (the ICMS cell's, TCD's), in
    MAILBOX_LANGUAGE."""
    return email_queue(
        key=key,
        template=template,
        to=list(mailboxes),
        language=settings.MAILBOX_LANGUAGE,
        context=context,
        attachments=attachments,
    )
