"""CSV exports of invoices and their lines for TCD's accounting.

Rows are written as the database hands them over, in chunks, so a year of
invoices takes no more memory than a week. Amounts of a credit note are
negative, so that a column adds up to what was invoiced net of corrections.
"""

import csv
from datetime import date
from decimal import Decimal

from stdnum.be import ogm_vcs

from accounts.models import enterprise_number_format

from .models import InvoiceKind
from .money import ZERO

# A spreadsheet runs a cell that starts with one of these as a formula.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")

CHUNK_SIZE = 500

INVOICE_COLUMNS = [
    "number",
    "kind",
    "issue_date",
    "due_date",
    "customer_name",
    "enterprise_number",
    "vat_number",
    "net_total",
    "vat_total",
    "gross_total",
    "payment_status",
    "paid_amount",
    "structured_communication",
    "buyer_reference",
    "order_form_reference",
    "corrects",
]
LINE_COLUMNS = [
    "invoice_number",
    "position",
    "description",
    "service_from",
    "service_to",
    "quantity",
    "unit_price",
    "amount",
    "vat_rate",
    "price_source",
]


def spreadsheet_cell(value):
    """One value as a CSV cell that a spreadsheet shows and never runs.

    Numbers stay numbers, with a dot before the decimals; text that starts like
    a formula gets a leading apostrophe, so "=HYPERLINK(...)" or "-Corp" is
    read as text, while the amount -12.50 of a credit note is still -12.50.
    """
    if value is None:
        return ""
    if isinstance(value, bool):
        raise TypeError("A CSV cell is a number, a date or text.")
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, int):
        return str(value)
    if isinstance(value, date):
        return value.isoformat()
    text = str(value)
    if text.startswith(FORMULA_STARTS):
        return "'" + text
    return text


class _Echo:
    """A file that hands back what is written, for csv.writer to stream."""

    def write(self, value):
        return value


def csv_stream(columns, rows):
    """The header, then one CSV line per row, each cell through
    ``spreadsheet_cell``. Starts with a byte order mark so that spreadsheets
    read the accents of "Liège" as UTF-8."""
    writer = csv.writer(_Echo())
    yield "\ufeff" + writer.writerow(columns)
    for row in rows:
        yield writer.writerow([spreadsheet_cell(value) for value in row])


def _signed(invoice, amount):
    if amount is None:
        return None
    return -amount if invoice.kind == InvoiceKind.CREDIT_NOTE else amount


def invoice_rows(invoices):
    for invoice in invoices.iterator(chunk_size=CHUNK_SIZE):
        state = invoice.payment_state
        yield [
            invoice.number,
            invoice.kind,
            invoice.issue_date,
            invoice.due_date,
            invoice.customer_name,
            enterprise_number_format(invoice.customer_enterprise_number),
            invoice.customer_vat_number,
            _signed(invoice, invoice.net_total),
            _signed(invoice, invoice.vat_total),
            _signed(invoice, invoice.gross_total),
            state.value if state else "",
            (invoice.paid_amount or ZERO) if state else None,
            # Without the plus signs, which a spreadsheet would take for a sum.
            ogm_vcs.format(invoice.structured_communication)
            if invoice.structured_communication
            else "",
            invoice.buyer_reference,
            invoice.order_form_reference,
            invoice.corrects.number if invoice.corrects_id else "",
        ]


def invoice_line_rows(lines):
    for line in lines.iterator(chunk_size=CHUNK_SIZE):
        invoice = line.invoice
        yield [
            invoice.number,
            line.position,
            line.description,
            line.service_start,
            line.service_end,
            _signed(invoice, line.quantity),
            line.unit_price,
            _signed(invoice, line.net_amount),
            line.vat_rate,
            line.price_source if line.agreement_id or line.amendment_id else "",
        ]
