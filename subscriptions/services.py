"""Step 4 of the ordering procedure, and the life of a subscription."""

import re
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from accounts.models import Role
from accounts.permissions import role_require
from accounts.selectors import organisation_admin_emails
from audit.services import Summary, audit_record
from notifications.services import email_queue
from orders.models import AccessRequestStatus, OrderLine
from orders.services import access_request_complete_if_done

from . import periods
from .models import (
    AccessLevel,
    Cancellation,
    CancellationChannel,
    ClosureReason,
    IcmsAccount,
    IcmsAccountStatus,
    Subscription,
    SubscriptionPeriod,
    SubscriptionStatus,
)

USERNAME_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{1,149}$")

# How far ahead the ICMS cell may date an activation.
MAXIMUM_ACTIVATION_DELAY = timedelta(days=365)


def username_suggest(order_line):
    """A first proposal for the ICMS user name: ``firstname.lastname``."""
    import unicodedata

    def plain(text):
        ascii_text = (
            unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
        )
        return re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")

    return f"{plain(order_line.first_name)}.{plain(order_line.last_name)}"


@transaction.atomic
def icms_account_create(
    *, order_line, username, activation_date=None, created_by, client_address=None
):
    """Step 4: the ICMS cell creates the ICMS account for one order line.

    The account starts at level user; its subscription's first period starts on
    the activation date (today in Brussels unless given).
    """
    role_require(created_by, Role.ICMS_CELL)
    order_line = (
        OrderLine.objects.select_for_update()
        .select_related("order_form__access_request__organisation")
        .get(pk=order_line.pk)
    )
    order_form = order_line.order_form
    access_request = order_form.access_request
    if access_request.status != AccessRequestStatus.ORDER_FORM_SUBMITTED:
        raise ValidationError(
            _(
                "Accounts are created once the order form is completed and until all "
                "of its lines have one."
            ),
            code="wrong_status",
        )
    if IcmsAccount.objects.filter(order_line=order_line).exists():
        raise ValidationError(
            _("%(name)s already has an ICMS account.") % {"name": order_line.full_name},
            code="already_created",
        )

    errors = {}
    username = (username or "").strip()
    if not USERNAME_PATTERN.match(username):
        errors["username"] = _(
            "Use 2 to 150 letters, digits or . _ @ -, starting with a letter or digit."
        )
    elif IcmsAccount.objects.filter(username__iexact=username).exists():
        errors["username"] = _("The ICMS user name %(username)s is already taken.") % {
            "username": username
        }
    today = timezone.localdate()
    activation_date = activation_date or today
    ordered_on = timezone.localdate(order_form.submitted_at)
    if activation_date < ordered_on:
        errors["activation_date"] = _(
            "An access cannot start before it was ordered (%(date)s)."
        ) % {"date": date_format(ordered_on)}
    elif activation_date > today + MAXIMUM_ACTIVATION_DELAY:
        errors["activation_date"] = _(
            "Choose an activation date within a year from today."
        )
    if errors:
        raise ValidationError(errors)

    try:
        with transaction.atomic():
            account = IcmsAccount.objects.create(
                organisation=access_request.organisation,
                order_line=order_line,
                username=username,
                holder_first_name=order_line.first_name,
                holder_last_name=order_line.last_name,
                holder_email=order_line.email,
                holder_function=order_line.function,
                level=AccessLevel.USER,
                training_included=order_line.training_included,
                created_by=created_by,
            )
    except IntegrityError as error:
        # Two cell members took the same name at the same moment.
        raise ValidationError(
            {
                "username": _("The ICMS user name %(username)s is already taken.")
                % {"username": username}
            }
        ) from error
    subscription = Subscription.objects.create(
        account=account, activation_date=activation_date
    )
    first = periods.period(activation_date, 0)
    SubscriptionPeriod.objects.create(
        subscription=subscription, index=0, start=first.start, end=first.end
    )
    audit_record(
        action="icms_account.created",
        actor=created_by,
        subject=account,
        organisation=access_request.organisation,
        access_request=access_request,
        summary=Summary(
            "ICMS account %(username)s for %(name)s, active from %(date)s.",
            username=username,
            name=order_line.full_name,
            date=activation_date,
        ),
        client_address=client_address,
        data={"username": username, "activation_date": activation_date.isoformat()},
    )
    access_request_complete_if_done(access_request=access_request, actor=created_by)
    return account


# The life of a subscription: cancellation, withdrawal, closure.


def _lock_subscription(subscription):
    return (
        Subscription.objects.select_for_update(of=("self",))
        .select_related("account__organisation")
        .get(pk=subscription.pk)
    )


def cancellation_preview(*, subscription, received_at=None):
    """What a cancellation received now (or at ``received_at``) would do.

    Returns ``(stop_date, on_time)``, so the portal can state the date before
    the admin confirms.
    """
    received_on = periods.brussels_date(received_at or timezone.now())
    stop_date = periods.cancellation_stop_date(
        subscription.activation_date, received_on
    )
    current = periods.period_on(subscription.activation_date, received_on)
    return stop_date, stop_date == current.end


def _require_cancellable(subscription):
    if subscription.status != SubscriptionStatus.ACTIVE:
        raise ValidationError(
            _("This access has ended; it cannot be cancelled."), code="not_active"
        )
    if subscription.cancellations.filter(withdrawn_at__isnull=True).exists():
        raise ValidationError(
            _("A cancellation is already registered for this access."),
            code="already_cancelled",
        )


@transaction.atomic
def subscription_cancel(
    *,
    subscription,
    channel,
    received_at=None,
    registered_by=None,
    sender_email="",
    client_address=None,
):
    """Register a customer's cancellation of one access.

    On time (received on or before the last day to cancel) it stops the access
    at the end of the current period; late, at the end of the next one. Nothing
    is refunded. The admins of the organisation and TCD's mailbox are told.
    """
    subscription = _lock_subscription(subscription)
    account = subscription.account
    organisation = account.organisation
    if channel == CancellationChannel.PORTAL and (
        registered_by is None
        or registered_by.role != Role.ORGANISATION_ADMIN
        or registered_by.organisation_id != organisation.pk
    ):
        raise ValidationError(
            _("Only an admin of the organisation can cancel its accesses."),
            code="wrong_role",
        )
    if channel == CancellationChannel.TCD and (
        registered_by is None or registered_by.role != Role.TCD
    ):
        raise ValidationError(
            _("Your role does not allow this step."), code="wrong_role"
        )
    _require_cancellable(subscription)

    received_at = received_at or timezone.now()
    stop_date, on_time = cancellation_preview(
        subscription=subscription, received_at=received_at
    )
    cancellation = Cancellation.objects.create(
        subscription=subscription,
        received_at=received_at,
        channel=channel,
        registered_by=registered_by,
        sender_email=sender_email,
        stop_date=stop_date,
    )
    audit_record(
        action="subscription.cancelled",
        actor=registered_by,
        subject=cancellation,
        organisation=organisation,
        access_request=_access_request_of(account),
        summary=Summary(
            "Access %(username)s cancelled (%(channel)s); it stops after %(date)s.",
            username=account.username,
            channel=CancellationChannel(channel).label,
            date=stop_date,
        ),
        client_address=client_address,
        data={
            "stop_date": stop_date.isoformat(),
            "on_time": on_time,
            "channel": channel,
        },
    )
    context = {
        "account": account,
        "organisation": organisation,
        "cancellation": cancellation,
        "on_time": on_time,
    }
    recipients = organisation_admin_emails(organisation)
    if channel == CancellationChannel.EMAIL and sender_email:
        # The receipt goes to the address stored in the portal, never to an
        # address taken from the message.
        recipients = sorted({*recipients, sender_email})
    if recipients:
        email_queue(
            key=f"cancellation.registered:{cancellation.pk}",
            template="cancellation_registered",
            to=recipients,
            language=organisation.language,
            context=context,
        )
    email_queue(
        key=f"cancellation.registered.tcd:{cancellation.pk}",
        template="cancellation_registered",
        to=[settings.TCD_MAILBOX],
        language=settings.MAILBOX_LANGUAGE,
        context=context,
    )
    return cancellation


@transaction.atomic
def cancellation_withdraw(*, cancellation, withdrawn_by, client_address=None):
    """Take back a registered cancellation while the access still runs."""
    subscription = _lock_subscription(cancellation.subscription)
    cancellation = Cancellation.objects.select_for_update().get(pk=cancellation.pk)
    organisation = subscription.account.organisation
    if not (
        withdrawn_by.role == Role.TCD
        or (
            withdrawn_by.role == Role.ORGANISATION_ADMIN
            and withdrawn_by.organisation_id == organisation.pk
        )
    ):
        raise ValidationError(
            _("Your role does not allow this step."), code="wrong_role"
        )
    if cancellation.withdrawn_at is not None:
        raise ValidationError(
            _("This cancellation was already withdrawn."), code="already_withdrawn"
        )
    if subscription.status != SubscriptionStatus.ACTIVE or (
        timezone.localdate() > cancellation.stop_date
    ):
        raise ValidationError(
            _("The access has stopped; its cancellation can no longer be withdrawn."),
            code="too_late",
        )
    cancellation.withdrawn_at = timezone.now()
    cancellation.withdrawn_by = withdrawn_by
    cancellation.save(update_fields=["withdrawn_at", "withdrawn_by"])
    audit_record(
        action="subscription.cancellation_withdrawn",
        actor=withdrawn_by,
        subject=cancellation,
        organisation=organisation,
        access_request=_access_request_of(subscription.account),
        summary=Summary(
            "Cancellation of %(username)s withdrawn; the access renews as usual.",
            username=subscription.account.username,
        ),
        client_address=client_address,
    )
    email_queue(
        key=f"cancellation.withdrawn:{cancellation.pk}",
        template="cancellation_withdrawn",
        to=[*organisation_admin_emails(organisation), settings.TCD_MAILBOX],
        language=organisation.language,
        context={"account": subscription.account, "organisation": organisation},
    )
    return cancellation


@transaction.atomic
def subscription_close(
    *, subscription, closed_by, reason, requested_by="", note="", client_address=None
):
    """TCD closes an access at once. No credit note: nothing is refunded."""
    role_require(closed_by, Role.TCD)
    errors = {}
    if reason not in ClosureReason.values:
        errors["reason"] = _("Choose the reason for the closure.")
    requested_by = (requested_by or "").strip()
    if reason == ClosureReason.AUTHORITY_REQUEST and not requested_by:
        errors["requested_by"] = _("Name the authority that asked for the closure.")
    if errors:
        raise ValidationError(errors)
    subscription = _lock_subscription(subscription)
    if subscription.status != SubscriptionStatus.ACTIVE:
        raise ValidationError(_("This access has already ended."), code="not_active")

    today = timezone.localdate()
    subscription.status = SubscriptionStatus.CLOSED
    subscription.ended_on = today
    subscription.closed_at = timezone.now()
    subscription.closed_by = closed_by
    subscription.closure_reason = reason
    subscription.closure_requested_by = requested_by
    subscription.closure_note = (note or "").strip()
    subscription.save()
    account = subscription.account
    account.status = IcmsAccountStatus.CLOSED
    account.save(update_fields=["status"])
    organisation = account.organisation
    audit_record(
        action="subscription.closed",
        actor=closed_by,
        subject=subscription,
        organisation=organisation,
        access_request=_access_request_of(account),
        summary=Summary(
            "Access %(username)s closed by TCD: %(reason)s.",
            username=account.username,
            reason=ClosureReason(reason).label,
        ),
        client_address=client_address,
        data={"reason": reason, "requested_by": requested_by},
    )
    context = {
        "account": account,
        "organisation": organisation,
        "subscription": subscription,
    }
    recipients = organisation_admin_emails(organisation)
    if recipients:
        email_queue(
            key=f"subscription.closed:{subscription.pk}",
            template="access_closed",
            to=recipients,
            language=organisation.language,
            context=context,
        )
    email_queue(
        key=f"subscription.closed.cell:{subscription.pk}",
        template="access_closed",
        to=[settings.ICMS_CELL_MAILBOX],
        language=settings.MAILBOX_LANGUAGE,
        context=context,
    )
    return subscription


def _access_request_of(account):
    if account.order_line_id is None:
        return None
    return account.order_line.order_form.access_request


@transaction.atomic
def icms_account_mark_removed(*, account, removed_by, client_address=None):
    """The ICMS cell confirms it removed an ended access's account from ICMS."""
    role_require(removed_by, Role.ICMS_CELL)
    account = IcmsAccount.objects.select_for_update().get(pk=account.pk)
    if account.status not in (
        IcmsAccountStatus.TO_BE_REMOVED,
        IcmsAccountStatus.CLOSED,
    ):
        raise ValidationError(
            _("Only the account of an ended or closed access can be removed."),
            code="still_active",
        )
    account.status = IcmsAccountStatus.REMOVED
    account.save(update_fields=["status"])
    audit_record(
        action="icms_account.removed",
        actor=removed_by,
        subject=account,
        organisation=account.organisation,
        access_request=_access_request_of(account),
        summary=Summary(
            "ICMS account %(username)s removed from ICMS.", username=account.username
        ),
        client_address=client_address,
    )
    return account


@transaction.atomic
def inbound_email_resolve(
    *, inbound, reviewed_by, username="", note="", client_address=None
):
    """TCD settles a message in the review queue.

    With ``username``, the cancellation of that account is registered as
    received at the moment the message arrived; without, the message is
    closed with the note.
    """
    from .models import InboundEmail, InboundEmailStatus

    role_require(reviewed_by, Role.TCD)
    inbound = InboundEmail.objects.select_for_update().get(pk=inbound.pk)
    if inbound.status != InboundEmailStatus.REVIEW:
        raise ValidationError(_("This message was already dealt with."), code="done")
    username = (username or "").strip()
    note = (note or "").strip()
    if not username and not note:
        raise ValidationError(
            {"note": _("Say why the message is closed without a cancellation.")}
        )
    if username:
        account = (
            IcmsAccount.objects.filter(username__iexact=username)
            .select_related("subscription", "organisation")
            .first()
        )
        if account is None or not hasattr(account, "subscription"):
            raise ValidationError(
                {"username": _("No ICMS account has this user name.")}
            )
        inbound.cancellation = subscription_cancel(
            subscription=account.subscription,
            channel=CancellationChannel.TCD,
            received_at=inbound.received_at,
            registered_by=reviewed_by,
            client_address=client_address,
        )
    inbound.status = InboundEmailStatus.RESOLVED
    inbound.reviewed_by = reviewed_by
    inbound.reviewed_at = timezone.now()
    inbound.review_note = note
    inbound.save()
    audit_record(
        action="inbound_email.resolved",
        actor=reviewed_by,
        subject=inbound,
        summary=Summary(
            "Inbound email from %(sender)s reviewed.", sender=inbound.sender_address
        ),
        client_address=client_address,
        data={"cancellation": inbound.cancellation_id},
    )
    return inbound
