"""Step 4 of the ordering procedure, and the life of a subscription."""

import re
from datetime import timedelta

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from accounts.models import Role
from audit.services import audit_record
from orders.models import AccessRequestStatus, OrderLine
from orders.services import access_request_complete_if_done

from . import periods
from .models import AccessLevel, IcmsAccount, Subscription, SubscriptionPeriod

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
    if created_by.role != Role.ICMS_CELL:
        raise ValidationError(
            _("Your role does not allow this step."), code="wrong_role"
        )
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
        summary=_("ICMS account %(username)s for %(name)s, active from %(date)s.")
        % {
            "username": username,
            "name": order_line.full_name,
            "date": date_format(activation_date),
        },
        client_address=client_address,
        data={"username": username, "activation_date": activation_date.isoformat()},
    )
    access_request_complete_if_done(access_request=access_request, actor=created_by)
    return account
