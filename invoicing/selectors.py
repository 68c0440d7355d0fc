from dataclasses import dataclass
from decimal import Decimal
from itertools import groupby

from django.core.exceptions import ValidationError
from django.db.models import Count, Max, OuterRef, Q, Subquery, Sum

from accounts.permissions import scope_to_user

from .models import (
    BankImport,
    BankImportLine,
    BankImportLineStatus,
    Invoice,
    InvoiceKind,
    InvoiceLine,
    Payment,
)
from .money import ZERO
from .services import PriceList, periods_to_invoice


def invoices_visible_to(user):
    return with_payment_totals(
        scope_to_user(Invoice.objects.select_related("organisation"), user)
    ).order_by("-issued_at", "-pk")


def with_payment_totals(queryset):
    """Each invoice with ``paid_amount`` (None before a payment) and ``paid_on``,
    the day of its last payment, read by subqueries in the same query."""
    payments = Payment.objects.filter(invoice=OuterRef("pk")).order_by()
    per_invoice = payments.values("invoice")
    return queryset.annotate(
        paid_amount=Subquery(per_invoice.annotate(total=Sum("amount")).values("total")),
        paid_on=Subquery(per_invoice.annotate(last=Max("received_on")).values("last")),
    )


def invoicing_queue(as_of=None):
    """Periods still to invoice, grouped by organisation, each with its price.

    Returns a list of ``(organisation, [(period, price_or_None), ...])``; a
    period without a price in force is shown so that TCD sees what blocks it.
    """
    groups = []
    price_lists = {}
    periods = periods_to_invoice(as_of=as_of)
    for organisation, items in groupby(
        periods, key=lambda period: period.subscription.account.organisation
    ):
        authority = organisation.contracting_authority
        if authority.pk not in price_lists:
            price_lists[authority.pk] = PriceList(authority)
        rows = []
        for period in items:
            try:
                price = price_lists[authority.pk].price_on(period.start)
            except ValidationError:
                price = None
            rows.append((period, price))
        groups.append((organisation, rows))
    return groups


def invoice_amount_due(invoice):
    """The gross total less the credit notes that correct it."""
    credited = invoice.credit_notes.filter(kind=InvoiceKind.CREDIT_NOTE).aggregate(
        total=Sum("gross_total")
    )["total"]
    return invoice.gross_total - (credited or ZERO)


@dataclass(frozen=True)
class PaymentSummary:
    payments: list
    due: Decimal
    paid: Decimal

    @property
    def balance(self):
        """What is still to pay; negative when more was paid than due."""
        return self.due - self.paid

    @property
    def overpaid_by(self):
        return max(self.paid - self.due, ZERO)


def invoice_payment_summary(invoice):
    payments = list(
        invoice.payments.select_related("recorded_by", "bank_import_line__bank_import")
    )
    return PaymentSummary(
        payments=payments,
        due=invoice_amount_due(invoice),
        paid=sum((payment.amount for payment in payments), ZERO),
    )


def bank_imports_recent(limit=100):
    """The latest statements uploaded, with how many lines of each status.

    The page shows the latest hundred; older ones stay in the database and in
    the Django admin. Paging would lift that limit.
    """
    counts = {
        status.value: Count("lines", filter=Q(lines__status=status))
        for status in BankImportLineStatus
    }
    return (
        BankImport.objects.select_related("uploaded_by")
        .annotate(line_count=Count("lines"), **counts)
        .order_by("-uploaded_at", "-pk")[:limit]
    )


def bank_lines_unmatched():
    """Credits that paid nothing yet and wait for a person, oldest first."""
    return (
        BankImportLine.objects.filter(status=BankImportLineStatus.UNMATCHED)
        .select_related("bank_import")
        .order_by("booked_on", "pk")
    )


def bank_import_lines(bank_import):
    return bank_import.lines.select_related("invoice", "payment").order_by("position")


def invoices_for_export(*, issued_from=None, issued_to=None):
    """Invoices and credit notes in issue order, with their payments and the
    number of the invoice a credit note corrects, in one query read in chunks."""
    queryset = Invoice.objects.select_related("corrects")
    if issued_from:
        queryset = queryset.filter(issue_date__gte=issued_from)
    if issued_to:
        queryset = queryset.filter(issue_date__lte=issued_to)
    return with_payment_totals(queryset).order_by("issue_date", "kind", "number")


def invoice_lines_for_export(*, issued_from=None, issued_to=None):
    queryset = InvoiceLine.objects.select_related("invoice", "agreement", "amendment")
    if issued_from:
        queryset = queryset.filter(invoice__issue_date__gte=issued_from)
    if issued_to:
        queryset = queryset.filter(invoice__issue_date__lte=issued_to)
    return queryset.order_by(
        "invoice__issue_date", "invoice__kind", "invoice__number", "position"
    )
