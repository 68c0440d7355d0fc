"""Issued invoices and bank statement files for the payment and export tests."""

from datetime import date
from decimal import Decimal

from invoicing.services import invoice_issue, periods_to_invoice

from . import factories

# Two accesses at 120.00 a year, 21% VAT.
GROSS = Decimal("290.40")


def issued_invoice(*, admin, cell, tcd, quantity=2):
    """An invoice of ``admin``'s organisation for ``quantity`` new accesses."""
    factories.created_accounts(admin=admin, cell=cell, quantity=quantity)
    organisation = admin.organisation
    return invoice_issue(
        organisation=organisation,
        period_ids=[
            period.pk
            for period in periods_to_invoice()
            if period.subscription.account.organisation_id == organisation.pk
        ],
        issued_by=tcd,
    )


def issued_invoices(*, admin, cell, tcd, count):
    """``count`` invoices of ``admin``'s organisation, one access each."""
    factories.created_accounts(admin=admin, cell=cell, quantity=count)
    organisation = admin.organisation
    return [
        invoice_issue(organisation=organisation, period_ids=[period.pk], issued_by=tcd)
        for period in periods_to_invoice()
        if period.subscription.account.organisation_id == organisation.pk
    ]


def csv_statement(rows, *, delimiter=";", header=None, bom=False):
    """A CSV bank statement; each row is a tuple in the order of ``header``."""
    header = header or (
        "date",
        "amount",
        "communication",
        "counterparty name",
        "counterparty account",
        "bank reference",
    )
    lines = [delimiter.join(header)]
    for row in rows:
        lines.append(delimiter.join(_quoted(cell, delimiter) for cell in row))
    text = "\r\n".join(lines) + "\r\n"
    return ("\ufeff" if bom else "").encode() + text.encode()


def _quoted(cell, delimiter):
    return f'"{cell}"' if delimiter in cell else cell


# CODA: fixed-width records of 128 characters, as the Febelfin standard
# (version 2) lays them out and febelfin-coda reads them.
ACCOUNT = "BE62510007547061"


def _ddmmyy(day):
    return day.strftime("%d%m%y")


def _amount(amount, width=16):
    """Sign (0 credit, 1 debit) then the amount in thousandths of a euro."""
    sign = "1" if amount < 0 else "0"
    return sign + f"{int(abs(amount) * 1000):0{width - 1}d}"


def _record(text):
    assert len(text) == 128, (len(text), text)
    return text


def coda_statement(movements, *, day=date(2026, 3, 31), old_balance=Decimal(1000)):
    """A CODA file of one statement.

    ``movements`` are dicts with ``amount`` and ``bank_reference``, and either
    ``structured`` (12 digits) or ``free`` (text); ``counterparty_name`` and
    ``counterparty_account`` are optional.
    """
    account = ACCOUNT.ljust(31) + "   " + "EUR"
    records = [
        _record(
            "00000"
            + _ddmmyy(day)
            + "300"
            + "05"
            + " "
            + " " * 7
            + "0000000001"
            + "TCD NV".ljust(26)
            + "BBRUBEBB".ljust(11)
            + "00123456789"
            + " "
            + "00000"
            + "".ljust(16)
            + " "
            + "".ljust(15)
            + " " * 7
            + "2"
        ),
        _record(
            "1"
            + "2"
            + "001"
            + account
            + _amount(old_balance)
            + _ddmmyy(day)
            + "TCD NV".ljust(26)
            + "Zichtrekening".ljust(35)
            + "001"
        ),
    ]
    count = 1
    credit = debit = Decimal(0)
    for sequence, movement in enumerate(movements, start=1):
        amount = Decimal(movement["amount"])
        if amount > 0:
            credit += amount
        else:
            debit -= amount
        if "structured" in movement:
            communication = "1101" + movement["structured"]
        else:
            communication = "0" + movement.get("free", "")
        communication = communication.ljust(54 + 53 + 43)
        number = f"{sequence:04d}"
        records += [
            _record(
                "21"
                + number
                + "0000"
                + movement["bank_reference"].ljust(21)
                + _amount(amount)
                + _ddmmyy(day)
                + "00150000"
                + communication[:54]
                + _ddmmyy(day)
                + "001"
                + "0"
                + "1"
                + " "
                + "0"
            ),
            _record(
                "22"
                + number
                + "0000"
                + communication[54:107]
                + "".ljust(35)
                + "GEBABEBB".ljust(11)
                + "   "
                + " "
                + "    "
                + "    "
                + "    "
                + "1"
                + " "
                + "0"
            ),
            _record(
                "23"
                + number
                + "0000"
                + (movement.get("counterparty_account", "").ljust(34) + "EUR")
                + movement.get("counterparty_name", "").ljust(35)
                + communication[107:]
                + "0"
                + " "
                + "0"
            ),
        ]
        count += 3
    new_balance = old_balance + credit - debit
    records += [
        _record(
            "8" + "001" + account + _amount(new_balance) + _ddmmyy(day) + " " * 64 + "0"
        ),
        _record(
            "9"
            + " " * 15
            + f"{count + 1:06d}"
            + _amount(debit, 15)
            + _amount(credit, 15)
            + " " * 75
            + "2"
        ),
    ]
    return ("\r\n".join(records) + "\r\n").encode("cp1252")
