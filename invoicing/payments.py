"""Money received for invoices: recorded by hand or from a bank statement.

Every payment goes through ``payment_record``; a statement's credits are
matched on their structured communication, and what does not match waits for
a person in TCD.
"""

import logging
from dataclasses import dataclass
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from accounts.models import Role
from accounts.permissions import role_require
from audit.services import Summary, audit_record

from . import selectors
from .models import (
    BankImport,
    BankImportLine,
    BankImportLineStatus,
    Invoice,
    InvoiceKind,
    Payment,
    PaymentSource,
    PaymentStatus,
)
from .money import ZERO, round_money
from .statements import communication_normalise, statement_read

logger = logging.getLogger(__name__)

# Held for the transaction of one upload, so that two uploads of the same
# statement at the same moment cannot both find its lines new.
BANK_IMPORT_LOCK = 7_240_001


@dataclass(frozen=True)
class RecordedPayment:
    payment: Payment
    paid_in_full: bool
    overpaid_by: Decimal

    @property
    def invoice(self):
        return self.payment.invoice


@transaction.atomic
def payment_record(
    *,
    invoice,
    amount,
    received_on,
    recorded_by,
    source,
    bank_import_line=None,
    client_address=None,
):
    """Record money received for an invoice; mark it paid once the payments
    reach its gross total less the credit notes that correct it.

    More than is due is recorded all the same, and told in ``overpaid_by``:
    the money was received, and TCD decides what to do with the surplus.
    """
    role_require(recorded_by, Role.TCD)
    invoice = Invoice.objects.select_for_update().get(pk=invoice.pk)
    if invoice.kind != InvoiceKind.INVOICE:
        raise ValidationError(
            _("%(number)s is a credit note; only an invoice is paid.")
            % {"number": invoice.number},
            code="not_an_invoice",
        )
    if amount is None or amount <= ZERO:
        raise ValidationError({"amount": _("The amount must be more than zero.")})
    if round_money(amount) != amount:
        raise ValidationError({"amount": _("An amount has at most two decimals.")})
    if received_on > timezone.localdate():
        raise ValidationError(
            {"received_on": _("A payment cannot be received after today.")}
        )

    previous_state = invoice.payment_status
    payment = Payment.objects.create(
        invoice=invoice,
        amount=amount,
        received_on=received_on,
        source=source,
        bank_import_line=bank_import_line,
        recorded_by=recorded_by,
    )
    summary = selectors.invoice_payment_summary(invoice)
    if invoice.payment_status == PaymentStatus.OPEN and summary.balance <= ZERO:
        invoice.payment_status = PaymentStatus.PAID
        invoice.save(update_fields=["payment_status"])

    audit_record(
        action="payment.recorded",
        actor=recorded_by,
        subject=invoice,
        organisation=invoice.organisation,
        summary=Summary(
            "Payment of %(amount)s EUR received on %(date)s for %(number)s.",
            amount=amount,
            date=received_on,
            number=invoice.number,
        ),
        client_address=client_address,
        data={
            "payment": payment.pk,
            "amount": str(amount),
            "received_on": received_on.isoformat(),
            "source": source,
            "bank_import_line": bank_import_line.pk if bank_import_line else None,
            "payment_status": invoice.payment_status,
            "paid": str(summary.paid),
            "overpaid_by": str(summary.overpaid_by),
        },
    )
    if summary.overpaid_by:
        logger.warning(
            "invoice %s overpaid by %s (payment %s)",
            invoice.number,
            summary.overpaid_by,
            payment.pk,
        )
    return RecordedPayment(
        payment=payment,
        paid_in_full=previous_state == PaymentStatus.OPEN
        and invoice.payment_status == PaymentStatus.PAID,
        overpaid_by=summary.overpaid_by,
    )


@dataclass(frozen=True)
class BankImportOutcome:
    bank_import: BankImport
    counts: dict
    overpaid: list


def _duplicate_key(line):
    return (line.booked_on, line.amount, line.communication, line.counterparty_account)


@transaction.atomic
def bank_import_upload(*, filename, content, format, uploaded_by, client_address=None):
    """Import the credits of a statement file, all of them or none.

    A credit whose structured communication is that of an open invoice pays
    it. A credit already imported (the same bank reference; without one, the
    same day, amount, communication and account) is kept as a duplicate and
    pays nothing. Every other credit waits for a person. Debits are skipped.
    """
    role_require(uploaded_by, Role.TCD)
    movements = statement_read(content=content, format=format)
    credits = [movement for movement in movements if movement.amount > ZERO]

    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [BANK_IMPORT_LOCK])
    references = {credit.bank_reference for credit in credits if credit.bank_reference}
    seen_references = set(
        BankImportLine.objects.filter(bank_reference__in=references).values_list(
            "bank_reference", flat=True
        )
    )
    seen_keys = set(
        BankImportLine.objects.filter(
            bank_reference="",
            booked_on__in={credit.booked_on for credit in credits},
        ).values_list("booked_on", "amount", "communication", "counterparty_account")
    )
    codes = {communication_normalise(credit.communication) for credit in credits}
    open_invoices = {
        invoice.structured_communication: invoice
        for invoice in Invoice.objects.filter(
            kind=InvoiceKind.INVOICE,
            payment_status=PaymentStatus.OPEN,
            structured_communication__in=codes - {""},
        )
    }

    bank_import = BankImport.objects.create(
        filename=filename[:200], format=format, uploaded_by=uploaded_by
    )
    counts = dict.fromkeys(BankImportLineStatus.values, 0)
    overpaid = []
    for position, credit in enumerate(credits, start=1):
        line = BankImportLine(
            bank_import=bank_import,
            position=position,
            booked_on=credit.booked_on,
            amount=credit.amount,
            communication=credit.communication,
            counterparty_name=credit.counterparty_name,
            counterparty_account=credit.counterparty_account,
            bank_reference=credit.bank_reference,
        )
        invoice = open_invoices.get(communication_normalise(credit.communication))
        if line.bank_reference:
            duplicate = line.bank_reference in seen_references
            seen_references.add(line.bank_reference)
        else:
            duplicate = _duplicate_key(line) in seen_keys
            seen_keys.add(_duplicate_key(line))
        if duplicate:
            line.status = BankImportLineStatus.DUPLICATE
        elif invoice is not None:
            line.status = BankImportLineStatus.MATCHED
            line.invoice = invoice
        else:
            line.status = BankImportLineStatus.UNMATCHED
        line.save()
        counts[line.status] += 1

        if line.status == BankImportLineStatus.MATCHED:
            try:
                recorded = payment_record(
                    invoice=invoice,
                    amount=line.amount,
                    received_on=line.booked_on,
                    recorded_by=uploaded_by,
                    source=PaymentSource.BANK_IMPORT,
                    bank_import_line=line,
                    client_address=client_address,
                )
            except ValidationError as error:
                raise ValidationError(
                    [
                        _("The credit of %(date)s for %(number)s: %(message)s")
                        % {
                            "date": date_format(line.booked_on),
                            "number": invoice.number,
                            "message": message,
                        }
                        for message in error.messages
                    ],
                    code="bad_file",
                ) from error
            if recorded.paid_in_full:
                # A second credit for the same invoice in this file finds it
                # paid: it waits for a person instead of overpaying.
                del open_invoices[invoice.structured_communication]
            if recorded.overpaid_by:
                overpaid.append(recorded)

    audit_record(
        action="bank_import.uploaded",
        actor=uploaded_by,
        subject=bank_import,
        summary=Summary(
            "Bank statement %(file)s. Matched: %(matched)s. To settle: "
            "%(unmatched)s. Already imported: %(duplicate)s.",
            file=bank_import.filename,
            **counts,
        ),
        client_address=client_address,
        data={"format": format, "debits_skipped": len(movements) - len(credits)}
        | counts,
    )
    return BankImportOutcome(bank_import=bank_import, counts=counts, overpaid=overpaid)


@transaction.atomic
def bank_import_line_resolve(
    *, line, resolved_by, invoice_number="", note="", client_address=None
):
    """A person settles a credit that matched nothing.

    With ``invoice_number`` the credit pays that invoice; without, the line is
    closed with the note (a refund, a payment for another supplier...).
    Returns the payment recorded, or None.
    """
    role_require(resolved_by, Role.TCD)
    line = BankImportLine.objects.select_for_update().get(pk=line.pk)
    if line.status != BankImportLineStatus.UNMATCHED:
        raise ValidationError(_("This line is already settled."), code="done")
    invoice_number = (invoice_number or "").strip()
    note = (note or "").strip()
    if not invoice_number and not note:
        raise ValidationError(
            {
                "invoice_number": _(
                    "Give the number of the invoice this credit pays, or close "
                    "the line with a note."
                )
            }
        )

    recorded = None
    if invoice_number:
        invoice = Invoice.objects.filter(number__iexact=invoice_number).first()
        if invoice is None:
            raise ValidationError({"invoice_number": _("No invoice has this number.")})
        if invoice.kind != InvoiceKind.INVOICE:
            raise ValidationError(
                {"invoice_number": _("This is a credit note; only an invoice is paid.")}
            )
        recorded = payment_record(
            invoice=invoice,
            amount=line.amount,
            received_on=line.booked_on,
            recorded_by=resolved_by,
            source=PaymentSource.BANK_IMPORT,
            bank_import_line=line,
            client_address=client_address,
        )
        line.invoice = invoice

    line.status = BankImportLineStatus.RESOLVED
    line.note = note
    line.save(update_fields=["status", "invoice", "note"])
    audit_record(
        action="bank_import.line_resolved",
        actor=resolved_by,
        subject=line,
        organisation=line.invoice.organisation if line.invoice else None,
        summary=(
            _("Bank credit of %(amount)s EUR settled to %(number)s.")
            % {"amount": line.amount, "number": line.invoice.number}
            if line.invoice
            else _("Bank credit of %(amount)s EUR closed: %(note)s")
            % {"amount": line.amount, "note": note}
        ),
        client_address=client_address,
        data={
            "bank_import": line.bank_import_id,
            "invoice": line.invoice.number if line.invoice else None,
            "note": note,
        },
    )
    return recorded
