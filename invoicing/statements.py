"""Reading bank statement files: CSV as TCD's bank exports it, and CODA.

Both give the same movements; nothing here touches the database. A file that
cannot be read raises one ValidationError that names every bad line, so that
the import saves nothing of it.
"""

import csv
import decimal
import io
import re
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from coda import CODA
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from stdnum.be import ogm_vcs

from .models import BankImportFormat, BankImportLine
from .money import round_money

# The columns of a CSV statement, named on its first line in any case. The
# first three are required; a bank's further columns are ignored.
CSV_COLUMNS = {
    "date": "booked_on",
    "amount": "amount",
    "communication": "communication",
    "counterparty name": "counterparty_name",
    "counterparty account": "counterparty_account",
    "bank reference": "bank_reference",
}
CSV_REQUIRED = ("date", "amount", "communication")
TEXT_FIELDS = (
    "communication",
    "counterparty_name",
    "counterparty_account",
    "bank_reference",
)
CSV_DATE_FORMATS = ("%Y-%m-%d", "%d/%m/%Y")

CODA_RECORD_LENGTH = 128
# What an amount column holds: twelve digits, two of them decimals.
AMOUNT_LIMIT = Decimal(10) ** 10

# A long list of bad lines helps nobody: the first few are shown, then a count.
ERRORS_SHOWN = 10

# 1234.56, 1234,56, 1.234,56, 1,234.56, 1 234,56, -12.50: a decimal separator
# has at most two digits after it, a thousands separator exactly three.
AMOUNT = re.compile(
    r"(?P<sign>[+-]?)"
    r"(?P<units>\d{1,3}(?:(?P<group>[., ])\d{3})(?:(?P=group)\d{3})*|\d+)"
    r"(?:(?P<decimal>[.,])(?P<cents>\d{1,2}))?"
)


@dataclass(frozen=True)
class Movement:
    """One movement of a statement; a credit when its amount is positive."""

    booked_on: date
    amount: Decimal
    communication: str = ""
    counterparty_name: str = ""
    counterparty_account: str = ""
    bank_reference: str = ""


def communication_normalise(text):
    """The 12 digits of a structured communication in any usual spelling
    (+++202/6000/00192+++, ***202/6000/00192***, 202 6000 00192), or "" when
    the text is not one."""
    digits = re.sub(r"[+/*\s]", "", text or "")
    if len(digits) == 12 and ogm_vcs.is_valid(digits):
        return digits
    return ""


def amount_read(text):
    """A Decimal from an amount as people and banks write it, or None."""
    text = (text or "").strip().replace("\u00a0", " ").replace("\u202f", " ")
    match = AMOUNT.fullmatch(text)
    if match is None or match["group"] and match["group"] == match["decimal"]:
        return None
    units = re.sub(r"[., ]", "", match["units"])
    amount = round_money(Decimal(f"{units}.{match['cents'] or '0'}"))
    if amount >= AMOUNT_LIMIT:
        return None
    return -amount if match["sign"] == "-" else amount


def date_read(text):
    text = (text or "").strip()
    for date_format in CSV_DATE_FORMATS:
        try:
            return datetime.strptime(text, date_format).date()
        except ValueError:
            continue
    return None


def statement_read(*, content, format):
    """Every movement of a statement file, debits included, in file order."""
    if not content.strip():
        raise ValidationError(_("The file is empty."), code="empty")
    text = _decode(content)
    read = _coda_read if format == BankImportFormat.CODA else _csv_read
    movements = read(text)
    if not movements:
        raise ValidationError(_("The file holds no movement."), code="empty")
    return movements


def _fit(field, value):
    """The value cut to what its column of a statement line holds."""
    return value[: BankImportLine._meta.get_field(field).max_length]


def _decode(content):
    # UTF-8, with or without a byte order mark; older bank software writes
    # Windows-1252, which is also what CODA files use.
    try:
        return content.decode("utf-8-sig")
    except UnicodeDecodeError:
        return content.decode("cp1252", errors="replace")


def _raise_for(errors):
    if len(errors) > ERRORS_SHOWN:
        hidden = len(errors) - ERRORS_SHOWN
        errors = errors[:ERRORS_SHOWN] + [
            _("Further bad lines, not shown: %(count)s.") % {"count": hidden}
        ]
    raise ValidationError(errors, code="bad_file")


def _header_name(name):
    return " ".join((name or "").replace("_", " ").replace("-", " ").lower().split())


def _csv_read(text):
    first_line = text.lstrip("\ufeff").splitlines()[0]
    delimiter = ";" if ";" in first_line else ","
    reader = csv.reader(io.StringIO(text.lstrip("\ufeff")), delimiter=delimiter)
    header = [_header_name(name) for name in next(reader)]
    missing = [name for name in CSV_REQUIRED if name not in header]
    if missing:
        raise ValidationError(
            _(
                "Line 1 must name the columns date, amount and communication "
                "(counterparty name, counterparty account and bank reference "
                "may follow); it lacks: %(missing)s."
            )
            % {"missing": ", ".join(missing)},
            code="bad_columns",
        )
    index = {
        field: header.index(name)
        for name, field in CSV_COLUMNS.items()
        if name in header
    }

    movements, errors = [], []
    for row in reader:
        if not any(cell.strip() for cell in row):
            continue
        line = reader.line_num
        values = {
            field: row[position].strip() if position < len(row) else ""
            for field, position in index.items()
        }
        booked_on = date_read(values["booked_on"])
        amount = amount_read(values["amount"])
        if booked_on is None:
            errors.append(
                _(
                    "Line %(line)s: “%(value)s” is not a date "
                    "(YYYY-MM-DD or DD/MM/YYYY)."
                )
                % {"line": line, "value": values["booked_on"]}
            )
        if amount is None:
            errors.append(
                _("Line %(line)s: “%(value)s” is not an amount.")
                % {"line": line, "value": values["amount"]}
            )
        if booked_on is None or amount is None:
            continue
        movements.append(
            Movement(
                booked_on=booked_on,
                amount=amount,
                **{field: _fit(field, values.get(field, "")) for field in TEXT_FIELDS},
            )
        )
    if errors:
        _raise_for(errors)
    return movements


class _NumberedRecords:
    """Hands the CODA parser its records and remembers which line it is on, so
    that a record it cannot read is named to the person."""

    def __init__(self, records):
        self.records = records
        self.line = 0

    def __iter__(self):
        for line, record in self.records:
            self.line = line
            yield record


def _coda_read(text):
    records, errors = [], []
    for line, record in enumerate(text.splitlines(), start=1):
        if not record.strip():
            continue
        if len(record) > CODA_RECORD_LENGTH:
            errors.append(
                _("Line %(line)s is longer than a CODA record (128 characters).")
                % {"line": line}
            )
        # Some software trims the spaces that end a record; they mean nothing.
        records.append((line, record.ljust(CODA_RECORD_LENGTH)))
    if not records or not records[0][1].startswith("0000"):
        raise ValidationError(
            _("This is not a CODA file: line 1 is not a CODA header record."),
            code="not_coda",
        )
    if errors:
        _raise_for(errors)

    numbered = _NumberedRecords(records)
    try:
        statements = CODA(numbered).statements
    except (
        ValueError,
        AssertionError,
        IndexError,
        KeyError,
        TypeError,
        AttributeError,
        decimal.InvalidOperation,
    ) as error:
        raise ValidationError(
            _("Line %(line)s of the CODA file cannot be read.")
            % {"line": numbered.line},
            code="bad_file",
        ) from error

    movements = []
    for statement in statements:
        for move in statement.moves:
            # A globalised movement is read through its details, each with the
            # communication of one payment.
            for detail in move.moves or [move]:
                movements.append(_coda_movement(detail))
    return movements


def _coda_movement(move):
    communication = (move.communication or "").strip()
    if move.communication_type in {"101", "102"} and communication.isdigit():
        communication = f"+++{ogm_vcs.format(communication)}+++"
    # The account is followed by its currency: "BE71096123456769    EUR".
    account = (move.counterparty_account or "").split()
    if account and len(account[-1]) == 3 and account[-1].isalpha():
        account.pop()
    return Movement(
        booked_on=move.entry_date or move.value_date,
        amount=round_money(move.amount),
        communication=_fit("communication", communication),
        counterparty_name=_fit("counterparty_name", move.counterparty_name or ""),
        counterparty_account=_fit(
            "counterparty_account", account[0] if account else ""
        ),
        bank_reference=_fit("bank_reference", (move.bank_reference or "").strip()),
    )
