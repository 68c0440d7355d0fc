"""Prices in force and issuing invoices (step 5 of the ordering procedure)."""

from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone, translation
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from stdnum.be import ogm_vcs

from accounts.models import Role
from accounts.permissions import role_require
from audit.services import PluralSummary, Summary, audit_record
from notifications.services import email_queue
from subscriptions.models import SubscriptionPeriod

from .models import (
    NUMBER_PREFIX,
    FrameworkAgreement,
    Invoice,
    InvoiceKind,
    InvoiceLine,
    InvoiceSequence,
    PaymentStatus,
    PriceAmendment,
)
from .money import STANDARD_VAT_RATE, ZERO, invoice_totals, round_money


@dataclass(frozen=True)
class PriceInForce:
    amount: Decimal
    agreement: FrameworkAgreement
    amendment: PriceAmendment | None

    @property
    def reference(self):
        return self.amendment.reference if self.amendment else self.agreement.reference


class PriceList:
    """The framework prices of one contracting authority, read once.

    ``price_on(day)`` is the yearly price per access in force on a day: the
    latest agreement or amendment that applies on or before it. Pages and runs
    that price many periods ask one PriceList instead of the database each
    time.
    """

    def __init__(self, contracting_authority):
        self.contracting_authority = contracting_authority
        self.steps = []
        for agreement in FrameworkAgreement.objects.filter(
            contracting_authority=contracting_authority
        ).prefetch_related("amendments"):
            self.steps.append((agreement.starts_on, 0, agreement, None))
            for amendment in agreement.amendments.all():
                self.steps.append((amendment.applies_from, 1, agreement, amendment))
        self.steps.sort(key=lambda step: step[:2])

    def price_on(self, day):
        in_force = [step for step in self.steps if step[0] <= day]
        if not in_force:
            raise ValidationError(
                _("No framework price of %(authority)s is in force on %(date)s.")
                % {"authority": self.contracting_authority, "date": date_format(day)},
                code="no_price",
            )
        _start, _order, agreement, amendment = in_force[-1]
        amount = amendment.yearly_price if amendment else agreement.yearly_price
        return PriceInForce(amount=amount, agreement=agreement, amendment=amendment)


def price_in_force(*, contracting_authority, day):
    """The yearly price per access on ``day``."""
    return PriceList(contracting_authority).price_on(day)


def structured_communication(*, year, sequence):
    """The 12 digits of the Belgian structured communication for an invoice.

    The first ten digits are the year and the invoice's sequence number, the
    last two their remainder modulo 97 (97 when the remainder is 0).
    """
    base = f"{year:04d}{sequence:06d}"
    return base + ogm_vcs.calc_check_digits(base)


def invoice_number_take(*, kind, year):
    """Take the next number of a series and year, inside the caller's transaction.

    The sequence row stays locked until that transaction ends: a concurrent
    issue waits, and a rolled-back one gives its number back.
    """
    InvoiceSequence.objects.bulk_create(
        [InvoiceSequence(kind=kind, year=year)], ignore_conflicts=True
    )
    sequence = InvoiceSequence.objects.select_for_update().get(kind=kind, year=year)
    sequence.last_number += 1
    sequence.save(update_fields=["last_number"])
    return sequence.last_number


def periods_to_invoice(*, as_of=None):
    """Every begun period of an additional access that no invoice covers yet."""
    as_of = as_of or timezone.localdate()
    return (
        SubscriptionPeriod.objects.filter(
            subscription__account__is_base_package=False, start__lte=as_of
        )
        .exclude(invoice_lines__is_credit=False)
        .select_related(
            "subscription__account__organisation__contracting_authority",
            "subscription__account__order_line__order_form",
        )
        .order_by("subscription__account__organisation__legal_name", "start", "pk")
    )


def _line_description(period, language):
    account = period.subscription.account
    # The line is printed as stored, so it is written in the customer's
    # language, not in that of the person issuing the invoice.
    with translation.override(language):
        return _("ICMS access %(username)s (%(holder)s)") % {
            "username": account.username,
            "holder": account.holder_name,
        }


@transaction.atomic
def invoice_issue(
    *, organisation, period_ids, issued_by, as_of=None, client_address=None
):
    """Step 5: TCD invoices begun periods of one organisation's accesses.

    One line per access and period, at the price in force on the period's first
    day, 21% VAT computed on the sum of the lines. ``issued_by`` is None when
    the renewal job issues it.
    """
    if issued_by is not None:
        role_require(issued_by, Role.TCD)
    period_ids = sorted(set(period_ids))
    if not period_ids:
        raise ValidationError(_("Choose at least one access period to invoice."))
    locked = list(
        SubscriptionPeriod.objects.select_for_update(of=("self",))
        .filter(pk__in=period_ids)
        .order_by("start", "pk")
    )
    to_invoice = {
        period.pk: period
        for period in periods_to_invoice(as_of=as_of).filter(pk__in=period_ids)
    }
    if len(locked) != len(period_ids) or set(to_invoice) != set(period_ids):
        raise ValidationError(
            _(
                "Some of these periods were invoiced meanwhile or cannot be invoiced; "
                "reload the list."
            ),
            code="stale_selection",
        )
    chosen = [to_invoice[period.pk] for period in locked]
    if any(p.subscription.account.organisation_id != organisation.pk for p in chosen):
        raise ValidationError(
            _("Every period on an invoice belongs to its organisation.")
        )

    lines = []
    prices = PriceList(organisation.contracting_authority)
    for position, period in enumerate(chosen, start=1):
        price = prices.price_on(period.start)
        lines.append(
            InvoiceLine(
                position=position,
                period=period,
                description=_line_description(period, organisation.language),
                service_start=period.start,
                service_end=period.end,
                quantity=Decimal(1),
                unit_price=price.amount,
                net_amount=round_money(price.amount),
                vat_rate=STANDARD_VAT_RATE,
                agreement=price.agreement,
                amendment=price.amendment,
            )
        )
    net, vat, gross = invoice_totals(lines)
    order_forms = sorted(
        {
            p.subscription.account.order_line.order_form
            for p in chosen
            if p.subscription.account.order_line_id
        },
        key=lambda order_form: order_form.pk,
    )

    issue_date = timezone.localdate()
    year = issue_date.year
    sequence = invoice_number_take(kind=InvoiceKind.INVOICE, year=year)
    invoice = Invoice.objects.create(
        kind=InvoiceKind.INVOICE,
        year=year,
        sequence=sequence,
        number=f"{NUMBER_PREFIX[InvoiceKind.INVOICE]}-{year}-{sequence:06d}",
        organisation=organisation,
        issue_date=issue_date,
        due_date=issue_date + timedelta(days=settings.INVOICE_PAYMENT_TERM_DAYS),
        issued_by=issued_by,
        customer_name=organisation.legal_name,
        customer_street=organisation.street,
        customer_postcode=organisation.postcode,
        customer_city=organisation.city,
        customer_country=organisation.country,
        customer_enterprise_number=organisation.enterprise_number,
        customer_vat_number=organisation.vat_number,
        customer_email=organisation.billing_email,
        customer_language=organisation.language,
        supplier=dict(settings.SUPPLIER),
        buyer_reference=", ".join(
            dict.fromkeys(
                f.purchase_order_reference
                for f in order_forms
                if f.purchase_order_reference
            )
        ),
        order_form_reference=", ".join(f.reference for f in order_forms),
        structured_communication=structured_communication(year=year, sequence=sequence),
        net_total=net,
        vat_total=vat,
        gross_total=gross,
    )
    for line in lines:
        line.invoice = invoice
    InvoiceLine.objects.bulk_create(lines)

    access_requests = {f.access_request for f in order_forms}
    for access_request in access_requests or [None]:
        audit_record(
            action="invoice.issued",
            actor=issued_by,
            subject=invoice,
            organisation=organisation,
            access_request=access_request,
            summary=PluralSummary(
                "Invoice %(number)s issued: %(count)s line, %(total)s EUR.",
                "Invoice %(number)s issued: %(count)s lines, %(total)s EUR.",
                "count",
                number=invoice.number,
                count=len(lines),
                total=gross,
            ),
            client_address=client_address,
            data={"number": invoice.number, "gross_total": str(gross)},
        )
    email_queue(
        key=f"invoice.issued:{invoice.pk}",
        template="invoice_issued",
        to=[invoice.customer_email],
        language=invoice.customer_language,
        context={"invoice": invoice, "organisation": organisation},
        attachments=[
            {"kind": "invoice_pdf", "id": invoice.pk},
            {"kind": "invoice_ubl", "id": invoice.pk},
        ],
    )
    return invoice


@transaction.atomic
def credit_note_issue(
    *, invoice, issued_by, reason, line_ids=None, client_address=None
):
    """Correct an issued invoice with a credit note in its own number series.

    The credit note repeats the chosen lines of the invoice (all of them by
    default) and refers to the invoice's number and date. A line is credited at
    most once, so the credit notes of an invoice never exceed it. Cancellation
    and closure of an access never make a credit note.
    """
    role_require(issued_by, Role.TCD)
    invoice = Invoice.objects.select_for_update().get(pk=invoice.pk)
    if invoice.kind != InvoiceKind.INVOICE:
        raise ValidationError(_("Only an invoice can be corrected by a credit note."))
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": _("Say why the invoice is corrected.")})
    lines = list(invoice.lines.order_by("position"))
    if line_ids is not None:
        wanted = {int(line_id) for line_id in line_ids}
        lines = [line for line in lines if line.pk in wanted]
    already = set(
        InvoiceLine.objects.filter(
            invoice__corrects=invoice, invoice__kind=InvoiceKind.CREDIT_NOTE
        ).values_list("position", flat=True)
    )
    # A credit line keeps the position of the invoice line it credits.
    if not lines:
        raise ValidationError(_("Choose at least one line to credit."))
    if any(line.position in already for line in lines):
        raise ValidationError(
            _("Some of these lines are already credited; a line is credited once."),
            code="already_credited",
        )

    issue_date = timezone.localdate()
    year = issue_date.year
    sequence = invoice_number_take(kind=InvoiceKind.CREDIT_NOTE, year=year)
    credit_lines = [
        InvoiceLine(
            position=line.position,
            period=line.period,
            is_credit=True,
            description=line.description,
            service_start=line.service_start,
            service_end=line.service_end,
            quantity=line.quantity,
            unit_price=line.unit_price,
            net_amount=line.net_amount,
            vat_rate=line.vat_rate,
            agreement=line.agreement,
            amendment=line.amendment,
        )
        for line in lines
    ]
    net, vat, gross = invoice_totals(credit_lines)
    snapshot = {
        field: getattr(invoice, field)
        for field in (
            "organisation",
            "customer_name",
            "customer_street",
            "customer_postcode",
            "customer_city",
            "customer_country",
            "customer_enterprise_number",
            "customer_vat_number",
            "customer_email",
            "customer_language",
            "supplier",
            "buyer_reference",
            "order_form_reference",
        )
    }
    credit_note = Invoice.objects.create(
        kind=InvoiceKind.CREDIT_NOTE,
        year=year,
        sequence=sequence,
        number=f"{NUMBER_PREFIX[InvoiceKind.CREDIT_NOTE]}-{year}-{sequence:06d}",
        corrects=invoice,
        credit_reason=reason,
        issue_date=issue_date,
        due_date=issue_date,
        issued_by=issued_by,
        net_total=net,
        vat_total=vat,
        gross_total=gross,
        **snapshot,
    )
    for line in credit_lines:
        line.invoice = credit_note
    InvoiceLine.objects.bulk_create(credit_lines)
    _settle_if_nothing_due(invoice)
    audit_record(
        action="credit_note.issued",
        actor=issued_by,
        subject=credit_note,
        organisation=invoice.organisation,
        summary=Summary(
            "Credit note %(number)s corrects %(invoice)s: %(reason)s",
            number=credit_note.number,
            invoice=invoice.number,
            reason=reason,
        ),
        client_address=client_address,
        data={"corrects": invoice.number, "gross_total": str(gross)},
    )
    email_queue(
        key=f"credit_note.issued:{credit_note.pk}",
        template="invoice_issued",
        to=[credit_note.customer_email],
        language=credit_note.customer_language,
        context={"invoice": credit_note, "organisation": invoice.organisation},
        attachments=[
            {"kind": "invoice_pdf", "id": credit_note.pk},
            {"kind": "invoice_ubl", "id": credit_note.pk},
        ],
    )
    return credit_note


def _settle_if_nothing_due(invoice):
    """A credit note can leave nothing more to pay: the invoice is then settled
    by the payments it already had (or by none, when credited in full)."""
    from .selectors import invoice_payment_summary

    if invoice.payment_status != PaymentStatus.OPEN:
        return
    if invoice_payment_summary(invoice).balance <= ZERO:
        invoice.payment_status = PaymentStatus.PAID
        invoice.save(update_fields=["payment_status"])
