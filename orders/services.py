"""Steps 1 to 3 of the ordering procedure: request, decision, order form."""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Organisation, Role, enterprise_number_normalise
from accounts.permissions import role_require
from audit.services import PluralSummary, Summary, audit_record
from notifications.services import (
    email_queue,
    mailbox_email_queue,
    organisation_email_queue,
)

from .models import AccessRequest, AccessRequestStatus, OrderForm, OrderLine

# More accesses than this in one request is almost certainly a typing error;
# an organisation that really needs more sends a second request.
MAXIMUM_QUANTITY = 500


def _require_status(access_request, *allowed):
    if access_request.status not in allowed:
        raise ValidationError(
            _("This step is no longer possible: the request's status is “%(status)s”.")
            % {"status": access_request.get_status_display()},
            code="wrong_status",
        )


def _lock(access_request):
    return AccessRequest.objects.select_for_update().get(pk=access_request.pk)


def _validate_quantity(quantity):
    if quantity is None or quantity < 1:
        raise ValidationError(
            {"quantity": _("Ask for at least one access.")}, code="quantity_too_small"
        )
    if quantity > MAXIMUM_QUANTITY:
        raise ValidationError(
            {
                "quantity": _("Ask for at most %(maximum)s accesses in one request.")
                % {"maximum": MAXIMUM_QUANTITY}
            },
            code="quantity_too_large",
        )


def _mailboxes_email(**kwargs):
    mailbox_email_queue(
        mailboxes=[settings.ICMS_CELL_MAILBOX, settings.TCD_MAILBOX], **kwargs
    )


@transaction.atomic
def access_request_submit(
    *, requested_by, quantity, motivation, phone="", function="", client_address=None
):
    """Step 1: an organisation admin asks for additional accesses."""
    role_require(requested_by, Role.ORGANISATION_ADMIN)
    _validate_quantity(quantity)
    motivation = (motivation or "").strip()
    if not motivation:
        raise ValidationError(
            {"motivation": _("Say why the organisation needs these accesses.")},
            code="motivation_missing",
        )
    organisation = Organisation.objects.get(pk=requested_by.organisation_id)
    access_request = AccessRequest.objects.create(
        organisation=organisation,
        requested_by=requested_by,
        requester_phone=phone.strip(),
        requester_function=function.strip(),
        quantity=quantity,
        motivation=motivation,
    )
    audit_record(
        action="access_request.submitted",
        actor=requested_by,
        subject=access_request,
        organisation=organisation,
        access_request=access_request,
        summary=PluralSummary(
            "Asked for %(quantity)s additional access.",
            "Asked for %(quantity)s additional accesses.",
            "quantity",
            quantity=quantity,
        ),
        client_address=client_address,
        data={"quantity": quantity},
    )
    email_queue(
        key=f"access_request.submitted:{access_request.pk}",
        template="access_request_submitted",
        to=[settings.ICMS_CELL_MAILBOX],
        language=settings.MAILBOX_LANGUAGE,
        context={"access_request": access_request, "organisation": organisation},
    )
    return access_request


@transaction.atomic
def access_request_issue_order_form(
    *, access_request, decided_by, quantity=None, message="", client_address=None
):
    """Step 2, yes: the ICMS cell sends the organisation an order form."""
    role_require(decided_by, Role.ICMS_CELL)
    access_request = _lock(access_request)
    _require_status(access_request, AccessRequestStatus.SUBMITTED)
    quantity = access_request.quantity if quantity is None else quantity
    _validate_quantity(quantity)

    now = timezone.now()
    access_request.status = AccessRequestStatus.ORDER_FORM_ISSUED
    access_request.decided_by = decided_by
    access_request.decided_at = now
    access_request.save(update_fields=["status", "decided_by", "decided_at"])
    order_form = OrderForm.objects.create(
        access_request=access_request,
        quantity=quantity,
        cell_message=(message or "").strip(),
        issued_by=decided_by,
        issued_at=now,
    )
    audit_record(
        action="order_form.issued",
        actor=decided_by,
        subject=order_form,
        organisation=access_request.organisation,
        access_request=access_request,
        summary=PluralSummary(
            "Order form %(reference)s issued for %(quantity)s access.",
            "Order form %(reference)s issued for %(quantity)s accesses.",
            "quantity",
            reference=order_form.reference,
            quantity=quantity,
        ),
        client_address=client_address,
        data={"quantity": quantity},
    )
    organisation_email_queue(
        key=f"order_form.issued:{order_form.pk}",
        template="order_form_issued",
        organisation=access_request.organisation,
        context={"access_request": access_request, "order_form": order_form},
    )
    return order_form


@transaction.atomic
def access_request_refuse(*, access_request, decided_by, reason, client_address=None):
    """Step 2, no: the ICMS cell states why the organisation is not eligible."""
    role_require(decided_by, Role.ICMS_CELL)
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError(
            {
                "reason": _(
                    "Give the reason for the refusal; the organisation will read it."
                )
            },
            code="reason_missing",
        )
    access_request = _lock(access_request)
    _require_status(access_request, AccessRequestStatus.SUBMITTED)

    access_request.status = AccessRequestStatus.REFUSED
    access_request.decided_by = decided_by
    access_request.decided_at = timezone.now()
    access_request.refusal_reason = reason
    access_request.save(
        update_fields=["status", "decided_by", "decided_at", "refusal_reason"]
    )
    audit_record(
        action="access_request.refused",
        actor=decided_by,
        subject=access_request,
        organisation=access_request.organisation,
        access_request=access_request,
        summary=Summary("Refused: %(reason)s", reason=reason),
        client_address=client_address,
    )
    organisation_email_queue(
        key=f"access_request.refused:{access_request.pk}",
        template="access_request_refused",
        organisation=access_request.organisation,
        context={"access_request": access_request},
    )
    return access_request


LINE_FIELDS = ("first_name", "last_name", "email", "function")


def _clean_lines(lines, quantity):
    """Validate the people named on an order form; return the cleaned lines.

    A line left entirely blank is skipped, so the form can offer one row per
    approved access and the organisation fills as many as it names now.
    """
    cleaned, errors, seen = [], {}, {}
    for number, line in enumerate(lines, start=1):
        values = {field: (line.get(field) or "").strip() for field in LINE_FIELDS}
        if not any(values.values()):
            continue
        missing = [field for field in LINE_FIELDS if not values[field]]
        if missing:
            errors[f"line-{number}"] = _("Line %(number)s: fill in every field.") % {
                "number": number
            }
            continue
        email = values["email"].lower()
        if email in seen:
            errors[f"line-{number}"] = _(
                "Line %(number)s: %(email)s is already on line %(first)s; "
                "each person holds one access."
            ) % {"number": number, "email": values["email"], "first": seen[email]}
            continue
        seen[email] = number
        cleaned.append(
            {**values, "training_included": bool(line.get("training_included"))}
        )
    if errors:
        raise ValidationError(errors, code="invalid_lines")
    if not cleaned:
        raise ValidationError(
            _("Name at least one person: an order form needs one line per access."),
            code="no_lines",
        )
    if len(cleaned) > quantity:
        raise ValidationError(
            _(
                "This order form is for %(quantity)s accesses; "
                "you named %(count)s people."
            )
            % {"quantity": quantity, "count": len(cleaned)},
            code="too_many_lines",
        )
    return cleaned


BILLING_FIELDS = (
    "billing_name",
    "billing_street",
    "billing_postcode",
    "billing_city",
    "billing_email",
)


@transaction.atomic
def order_form_submit(
    *,
    order_form,
    submitted_by,
    lines,
    billing,
    conditions_accepted,
    client_address=None,
):
    """Step 3: the organisation completes its order form.

    ``lines`` is a list of dicts with first_name, last_name, email, function and
    training_included; ``billing`` holds the confirmed billing details. The
    form reaches both the ICMS cell's and TCD's mailboxes with its PDF.
    """
    role_require(submitted_by, Role.ORGANISATION_ADMIN)
    access_request = _lock(order_form.access_request)
    if access_request.organisation_id != submitted_by.organisation_id:
        raise ValidationError(_("This order form belongs to another organisation."))
    _require_status(access_request, AccessRequestStatus.ORDER_FORM_ISSUED)
    order_form = OrderForm.objects.select_for_update().get(pk=order_form.pk)

    errors = {}
    try:
        cleaned_lines = _clean_lines(lines, order_form.quantity)
    except ValidationError as error:
        errors = error.update_error_dict(errors)
    billing = {
        field: (billing.get(field) or "").strip()
        for field in (*BILLING_FIELDS, "billing_vat_number", "purchase_order_reference")
    }
    for field in BILLING_FIELDS:
        if not billing[field]:
            errors.setdefault(field, []).append(_("Confirm this billing detail."))
    if billing["billing_vat_number"]:
        # Stored as the organisation's own: BE and the ten digits.
        try:
            billing["billing_vat_number"] = "BE" + enterprise_number_normalise(
                billing["billing_vat_number"]
            )
        except ValidationError as error:
            errors.setdefault("billing_vat_number", []).extend(error.error_list)
    if not conditions_accepted:
        errors.setdefault("conditions_accepted", []).append(
            _("Accept the conditions of use to submit the order form.")
        )
    if errors:
        raise ValidationError(errors)

    now = timezone.now()
    for field, value in billing.items():
        setattr(order_form, field, value)
    order_form.submitted_by = submitted_by
    order_form.submitted_at = now
    order_form.conditions_accepted_at = now
    order_form.save()
    OrderLine.objects.bulk_create(
        OrderLine(order_form=order_form, position=position, **line)
        for position, line in enumerate(cleaned_lines, start=1)
    )
    access_request.status = AccessRequestStatus.ORDER_FORM_SUBMITTED
    access_request.save(update_fields=["status"])

    audit_record(
        action="order_form.submitted",
        actor=submitted_by,
        subject=order_form,
        organisation=access_request.organisation,
        access_request=access_request,
        summary=PluralSummary(
            "Order form %(reference)s completed with %(count)s person.",
            "Order form %(reference)s completed with %(count)s people.",
            "count",
            reference=order_form.reference,
            count=len(cleaned_lines),
        ),
        client_address=client_address,
        data={"lines": len(cleaned_lines)},
    )
    _mailboxes_email(
        key=f"order_form.submitted:{order_form.pk}",
        template="order_form_submitted",
        context={
            "order_form": order_form,
            "access_request": access_request,
            "organisation": access_request.organisation,
        },
        attachments=[{"kind": "order_form_pdf", "id": order_form.pk}],
    )
    return order_form


def access_request_complete_if_done(*, access_request, actor):
    """Close the request once every line of its order form has an account.

    Called inside the transaction that created an account.
    """
    access_request = _lock(access_request)
    order_form = access_request.order_form
    if order_form.lines.filter(icms_account__isnull=True).exists():
        return False
    if access_request.status != AccessRequestStatus.ORDER_FORM_SUBMITTED:
        return False
    access_request.status = AccessRequestStatus.ACCOUNTS_CREATED
    access_request.save(update_fields=["status"])
    accounts = [
        line.icms_account for line in order_form.lines.select_related("icms_account")
    ]
    audit_record(
        action="access_request.completed",
        actor=actor,
        subject=access_request,
        organisation=access_request.organisation,
        access_request=access_request,
        summary=PluralSummary(
            "%(count)s account created.",
            "All %(count)s accounts created.",
            "count",
            count=len(accounts),
        ),
    )
    organisation_email_queue(
        key=f"access_request.completed:{access_request.pk}",
        template="accounts_created",
        organisation=access_request.organisation,
        context={
            "access_request": access_request,
            "order_form": order_form,
            "accounts": accounts,
        },
    )
    return True
