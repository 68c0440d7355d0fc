"""Bank statements: credits matched on their structured communication, the rest
settled by a person, nothing paid twice, a bad file refused whole."""

from datetime import timedelta
from decimal import Decimal

import lxml.html
import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from stdnum.be import ogm_vcs

from audit.models import AuditEntry
from invoicing.models import (
    BankImport,
    BankImportFormat,
    BankImportLine,
    BankImportLineStatus,
    Invoice,
    Payment,
    PaymentSource,
)
from invoicing.payments import bank_import_line_resolve, bank_import_upload
from invoicing.statements import amount_read, communication_normalise

from .payment_helpers import (
    GROSS,
    coda_statement,
    csv_statement,
    issued_invoice,
    issued_invoices,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def invoice(admin_a, cell, tcd):
    return issued_invoice(admin=admin_a, cell=cell, tcd=tcd)


def today():
    return timezone.localdate().isoformat()


def upload(content, tcd, format=BankImportFormat.CSV, filename="afschrift.csv"):
    return bank_import_upload(
        filename=filename, content=content, format=format, uploaded_by=tcd
    )


def credit(communication, amount="290.40", reference="", account="BE71096123456769"):
    return (today(), amount, communication, "Stad Gent", account, reference)


def status_of(invoice):
    return Invoice.objects.get(pk=invoice.pk).payment_status


def page(response):
    return lxml.html.fromstring(response.content.decode())


def spellings(digits):
    formatted = ogm_vcs.format(digits)
    return [
        f"+++{formatted}+++",
        f"***{formatted}***",
        f"+++ {formatted} +++",
        formatted,
        digits,
        f"{digits[:3]} {digits[3:7]} {digits[7:]}",
    ]


@pytest.mark.parametrize("spelling", range(6))
def test_it_matches_the_structured_communication_in_its_usual_spellings(
    invoice, tcd, spelling
):
    communication = spellings(invoice.structured_communication)[spelling]

    outcome = upload(csv_statement([credit(communication, reference="B1")]), tcd)

    line = BankImportLine.objects.get()
    assert line.status == BankImportLineStatus.MATCHED
    assert line.invoice == invoice
    assert line.payment.amount == GROSS
    assert line.payment.source == PaymentSource.BANK_IMPORT
    assert line.payment.recorded_by == tcd
    assert status_of(invoice) == "paid"
    assert outcome.counts["matched"] == 1


def test_it_normalises_only_a_valid_structured_communication():
    assert communication_normalise("+++202/6000/00192+++") == "202600000192"
    assert communication_normalise("+++202/6000/00193+++") == ""
    assert communication_normalise("Factuur INV-2026-000001") == ""
    assert communication_normalise("") == ""


@pytest.mark.parametrize(
    ("text", "amount"),
    [
        ("290,40", "290.40"),
        ("290.40", "290.40"),
        ("1.234,56", "1234.56"),
        ("1,234.56", "1234.56"),
        ("1 234,56", "1234.56"),
        ("1.234", "1234.00"),
        ("-12,50", "-12.50"),
        ("+7", "7.00"),
        ("12,5", "12.50"),
    ],
)
def test_it_reads_amounts_with_a_decimal_comma_or_dot(text, amount):
    assert amount_read(text) == Decimal(amount)


@pytest.mark.parametrize("text", ["", "12,3456", "1.2.3", "12,34.5", "abc", "1e3"])
def test_it_reads_no_amount_from_what_is_not_one(text):
    assert amount_read(text) is None


def test_it_keeps_an_invoice_open_after_a_partial_credit_then_pays_it(invoice, tcd):
    communication = invoice.structured_communication_display
    upload(csv_statement([credit(communication, "100,00", "B1")]), tcd)
    assert status_of(invoice) == "open"

    upload(csv_statement([credit(communication, "190,40", "B2")]), tcd)

    assert status_of(invoice) == "paid"
    assert Payment.objects.filter(invoice=invoice).count() == 2


@pytest.mark.parametrize("reference", ["B1", ""])
def test_it_pays_once_for_a_statement_imported_twice(invoice, tcd, reference):
    statement = csv_statement(
        [credit(invoice.structured_communication_display, "100,00", reference)]
    )
    upload(statement, tcd)

    outcome = upload(statement, tcd)

    assert outcome.counts == {
        "matched": 0,
        "unmatched": 0,
        "duplicate": 1,
        "resolved": 0,
    }
    assert Payment.objects.count() == 1
    assert Payment.objects.get().amount == Decimal("100.00")


def test_it_tells_apart_credits_without_reference_that_differ(invoice, tcd):
    communication = invoice.structured_communication_display
    upload(csv_statement([credit(communication, "100,00")]), tcd)

    upload(
        csv_statement([credit(communication, "100,00", account="BE43068999999501")]),
        tcd,
    )

    assert Payment.objects.count() == 2


def test_it_leaves_a_second_credit_for_a_paid_invoice_to_a_person(invoice, tcd):
    communication = invoice.structured_communication_display

    upload(
        csv_statement(
            [
                credit(communication, "290,40", "B1"),
                credit(communication, "290,40", "B2"),
            ]
        ),
        tcd,
    )

    assert list(
        BankImportLine.objects.order_by("position").values_list("status", flat=True)
    ) == ["matched", "unmatched"]
    assert Payment.objects.count() == 1


def test_it_skips_debits(invoice, tcd):
    statement = csv_statement(
        [
            credit("Bankkosten", "-12,50", "D1"),
            credit(invoice.structured_communication_display, reference="B1"),
        ]
    )

    upload(statement, tcd)

    assert BankImportLine.objects.get().amount == GROSS


def test_it_reads_a_comma_separated_file_with_a_bom_and_belgian_dates(invoice, tcd):
    statement = csv_statement(
        [
            (
                timezone.localdate().strftime("%d/%m/%Y"),
                "290,40",
                invoice.structured_communication_display,
                "Stad Gent",
                "BE71096123456769",
                "B1",
            )
        ],
        delimiter=",",
        header=(
            "Date",
            "AMOUNT",
            "Communication",
            "Counterparty_Name",
            "counterparty account",
            "Bank reference",
        ),
        bom=True,
    )

    upload(statement, tcd)

    line = BankImportLine.objects.get()
    assert line.status == "matched"
    assert line.booked_on == timezone.localdate()
    assert line.counterparty_name == "Stad Gent"
    assert line.bank_reference == "B1"


def test_it_needs_only_the_date_amount_and_communication_columns(invoice, tcd):
    statement = csv_statement(
        [(today(), "290.40", invoice.structured_communication, "x")],
        header=("Date", "Amount", "Communication", "Saldo"),
    )

    upload(statement, tcd)

    assert status_of(invoice) == "paid"


def test_it_lists_an_unmatched_credit_for_a_person(client, invoice, tcd):
    upload(csv_statement([credit("Factuur INV-2026-000001", "290,40", "B1")]), tcd)
    client.force_login(tcd)

    response = client.get(reverse("invoicing:payments"))

    line = BankImportLine.objects.get()
    assert line.status == BankImportLineStatus.UNMATCHED
    assert not Payment.objects.exists()
    forms = page(response).xpath(f'//form[.//input[@name="line"][@value="{line.pk}"]]')
    assert len(forms) == 1
    assert "Factuur INV-2026-000001" in response.content.decode()


def test_it_settles_an_unmatched_credit_with_an_invoice_number(client, invoice, tcd):
    upload(csv_statement([credit("Factuur januari", "290,40", "B1")]), tcd)
    line = BankImportLine.objects.get()
    client.force_login(tcd)

    response = client.post(
        reverse("invoicing:payments"),
        {"line": line.pk, f"line-{line.pk}-invoice_number": invoice.number.lower()},
        follow=True,
    )

    line.refresh_from_db()
    assert line.status == BankImportLineStatus.RESOLVED
    assert line.invoice == invoice
    assert line.payment.amount == GROSS
    assert status_of(invoice) == "paid"
    assert f"{invoice.number} is paid." in response.content.decode()
    assert AuditEntry.objects.filter(action="bank_import.line_resolved").count() == 1


def test_it_closes_an_unmatched_credit_with_a_note(client, invoice, tcd):
    upload(csv_statement([credit("Terugbetaling", "50,00", "B1")]), tcd)
    line = BankImportLine.objects.get()
    client.force_login(tcd)

    client.post(
        reverse("invoicing:bank_import_detail", kwargs={"pk": line.bank_import_id}),
        {"line": line.pk, f"line-{line.pk}-note": "Voor een andere leverancier."},
    )

    line.refresh_from_db()
    assert line.status == BankImportLineStatus.RESOLVED
    assert line.note == "Voor een andere leverancier."
    assert not Payment.objects.exists()
    assert status_of(invoice) == "open"


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        (
            "invoice_number",
            "",
            "Give the number of the invoice this credit pays, or close the line "
            "with a note.",
        ),
        ("invoice_number", "INV-1999-000001", "No invoice has this number."),
    ],
)
def test_it_shows_why_a_credit_cannot_be_settled_beside_the_field(
    client, invoice, tcd, field, value, message
):
    upload(csv_statement([credit("?", "50,00", "B1")]), tcd)
    line = BankImportLine.objects.get()
    client.force_login(tcd)

    response = client.post(
        reverse("invoicing:payments"),
        {"line": line.pk, f"line-{line.pk}-{field}": value},
    )

    errors = page(response).xpath(
        f'//div[contains(@class, "field")][.//*[@name="line-{line.pk}-{field}"]]'
        '//p[@class="error"]'
    )
    assert [error.text for error in errors] == [message]
    assert BankImportLine.objects.get().status == BankImportLineStatus.UNMATCHED


def test_it_settles_a_line_once(invoice, tcd):
    upload(csv_statement([credit("?", "50,00", "B1")]), tcd)
    line = BankImportLine.objects.get()
    bank_import_line_resolve(line=line, resolved_by=tcd, invoice_number=invoice.number)

    with pytest.raises(ValidationError, match="already settled"):
        bank_import_line_resolve(
            line=line, resolved_by=tcd, invoice_number=invoice.number
        )
    assert Payment.objects.count() == 1


def test_it_flags_an_overpaying_credit(client, invoice, tcd):
    client.force_login(tcd)
    statement = csv_statement(
        [credit(invoice.structured_communication_display, "300,00", "B1")]
    )

    response = client.post(
        reverse("invoicing:bank_import_new"),
        {"statement": SimpleUploadedFile("a.csv", statement), "format": "csv"},
        follow=True,
    )

    assert status_of(invoice) == "paid"
    warnings = page(response).xpath('//ul[@class="messages"]/li[@class="warning"]')
    assert [warning.text_content() for warning in warnings] == [
        f"{invoice.number} is overpaid by €\u00a09.60: the payment is recorded; "
        "agree with the customer on a refund."
    ]


BAD_FILES = [
    pytest.param(b"", "csv", ["The file is empty."], id="empty"),
    pytest.param(
        b"datum;bedrag;mededeling\r\n2026-01-05;10,00;x\r\n",
        "csv",
        [
            "Line 1 must name the columns date, amount and communication "
            "(counterparty name, counterparty account and bank reference may "
            "follow); it lacks: date, amount, communication."
        ],
        id="wrong columns",
    ),
    pytest.param(
        b"date;amount;communication\r\n2026-01-05;10,00;x\r\n2026-01-05;tien;y\r\n",
        "csv",
        ["Line 3: “tien” is not an amount."],
        id="unreadable amount",
    ),
    pytest.param(
        b"date;amount;communication\r\n31-13-2026;10,00;x\r\n",
        "csv",
        ["Line 2: “31-13-2026” is not a date (YYYY-MM-DD or DD/MM/YYYY)."],
        id="unreadable date",
    ),
    pytest.param(
        b"date;amount;communication\r\n",
        "csv",
        ["The file holds no movement."],
        id="header only",
    ),
    pytest.param(
        b"date;amount;communication\r\n2026-01-05;10,00;x\r\n",
        "coda",
        ["This is not a CODA file: line 1 is not a CODA header record."],
        id="not a CODA file",
    ),
]


@pytest.mark.parametrize(("content", "format", "messages"), BAD_FILES)
def test_it_refuses_a_bad_file_with_a_message_and_saves_nothing(
    client, invoice, tcd, content, format, messages
):
    client.force_login(tcd)

    response = client.post(
        reverse("invoicing:bank_import_new"),
        {"statement": SimpleUploadedFile("afschrift", content), "format": format},
    )

    assert response.status_code == 200
    shown = page(response).xpath('//div[@class="errors"]/p')
    assert [message.text for message in shown] == messages
    assert not BankImport.objects.exists()
    assert not BankImportLine.objects.exists()


def test_it_saves_nothing_of_a_file_that_fails_after_a_payment(admin_a, cell, tcd):
    first, second = issued_invoices(admin=admin_a, cell=cell, tcd=tcd, count=2)
    tomorrow = (timezone.localdate() + timedelta(days=1)).isoformat()
    statement = csv_statement(
        [
            credit(first.structured_communication_display, "145,20", "B1"),
            (tomorrow, "145,20", second.structured_communication, "", "", "B2"),
        ]
    )

    with pytest.raises(ValidationError, match=second.number):
        upload(statement, tcd)

    assert not BankImport.objects.exists()
    assert not Payment.objects.exists()
    assert status_of(first) == "open"
    assert not AuditEntry.objects.filter(action="payment.recorded").exists()


def test_it_names_a_few_bad_lines_and_counts_the_rest(tcd):
    rows = "".join(f"2026-01-05;x{n};c\r\n" for n in range(15))
    content = f"date;amount;communication\r\n{rows}".encode()

    with pytest.raises(ValidationError) as raised:
        upload(content, tcd)

    assert len(raised.value.messages) == 11
    assert raised.value.messages[0] == "Line 2: “x0” is not an amount."
    assert raised.value.messages[-1] == "Further bad lines, not shown: 5."


def test_it_reads_a_coda_statement(invoice, tcd):
    statement = coda_statement(
        [
            {
                "amount": "290.40",
                "bank_reference": "EPIB00048 AWIUBTKAPUO",
                "structured": invoice.structured_communication,
                "counterparty_name": "STAD GENT",
                "counterparty_account": "BE71096123456769",
            },
            {"amount": "-12.50", "bank_reference": "EPIB00049", "free": "Kosten"},
            {
                "amount": "40.00",
                "bank_reference": "EPIB00050",
                "free": "Voorschot opleiding",
                "counterparty_name": "HULPVERLENINGSZONE",
            },
        ],
        day=timezone.localdate(),
    )

    outcome = upload(statement, tcd, format=BankImportFormat.CODA, filename="a.cod")

    matched, unmatched = BankImportLine.objects.order_by("position")
    assert outcome.counts["matched"] == 1
    assert matched.invoice == invoice
    assert matched.communication == invoice.structured_communication_display
    assert matched.counterparty_name == "STAD GENT"
    assert matched.counterparty_account == "BE71096123456769"
    assert matched.bank_reference == "EPIB00048 AWIUBTKAPUO"
    assert matched.booked_on == timezone.localdate()
    assert unmatched.status == BankImportLineStatus.UNMATCHED
    assert unmatched.communication == "Voorschot opleiding"
    assert unmatched.amount == Decimal("40.00")
    assert status_of(invoice) == "paid"


def test_it_imports_a_coda_statement_once(invoice, tcd):
    statement = coda_statement(
        [
            {
                "amount": "290.40",
                "bank_reference": "EPIB00048",
                "structured": invoice.structured_communication,
            }
        ],
        day=timezone.localdate(),
    )
    upload(statement, tcd, format=BankImportFormat.CODA)

    upload(statement, tcd, format=BankImportFormat.CODA)

    assert list(
        BankImportLine.objects.order_by("pk").values_list("status", flat=True)
    ) == [
        "matched",
        "duplicate",
    ]
    assert Payment.objects.count() == 1


def test_it_names_the_line_of_a_coda_file_it_cannot_read(invoice, tcd):
    lines = coda_statement(
        [{"amount": "10", "bank_reference": "R", "free": "x"}]
    ).split(b"\r\n")
    lines[2] = lines[2][:31] + b"0000000000000x0" + lines[2][46:]

    with pytest.raises(ValidationError) as raised:
        upload(b"\r\n".join(lines), tcd, format=BankImportFormat.CODA)

    assert raised.value.messages == ["Line 3 of the CODA file cannot be read."]
    assert not BankImport.objects.exists()


def test_it_uploads_a_coda_file_from_the_page(client, invoice, tcd):
    client.force_login(tcd)
    statement = coda_statement(
        [
            {
                "amount": "290.40",
                "bank_reference": "EPIB00048",
                "structured": invoice.structured_communication,
            }
        ],
        day=timezone.localdate(),
    )

    response = client.post(
        reverse("invoicing:bank_import_new"),
        {"statement": SimpleUploadedFile("a.cod", statement), "format": "coda"},
        follow=True,
    )

    bank_import = BankImport.objects.get()
    assert bank_import.format == "coda"
    assert response.redirect_chain[-1][0] == reverse(
        "invoicing:bank_import_detail", kwargs={"pk": bank_import.pk}
    )
    assert invoice.number in response.content.decode()
    assert AuditEntry.objects.filter(action="bank_import.uploaded").count() == 1


def test_it_lists_the_payments_page_in_a_number_of_queries_that_does_not_grow(
    client, invoice, tcd
):
    client.force_login(tcd)
    upload(csv_statement([credit("?", "1", "A1")]), tcd)
    with CaptureQueriesContext(connection) as one:
        client.get(reverse("invoicing:payments"))
    for number in range(3):
        upload(
            csv_statement(
                [credit("?", "1", f"B{number}"), credit("!", "2", f"C{number}")]
            ),
            tcd,
        )

    with CaptureQueriesContext(connection) as more:
        response = client.get(reverse("invoicing:payments"))

    assert len(page(response).xpath('//input[@name="line"]')) == 7
    assert len(more) == len(one)


PAGES = [
    ("invoicing:payments", {}),
    ("invoicing:bank_import_new", {}),
]


@pytest.mark.parametrize("persona", ["admin_a", "admin_b", "cell"])
@pytest.mark.parametrize(("view_name", "kwargs"), PAGES)
def test_it_refuses_the_payment_pages_to_anyone_but_tcd(
    request, client, persona, view_name, kwargs
):
    client.force_login(request.getfixturevalue(persona))

    assert client.get(reverse(view_name, kwargs=kwargs)).status_code == 403
    assert client.post(reverse(view_name, kwargs=kwargs)).status_code == 403


@pytest.mark.parametrize(("view_name", "kwargs"), PAGES)
def test_it_sends_anonymous_visitors_of_the_payment_pages_to_the_login(
    client, db, view_name, kwargs
):
    response = client.get(reverse(view_name, kwargs=kwargs))

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login"))


@pytest.mark.parametrize("persona", ["admin_a", "cell"])
def test_it_refuses_a_statement_and_its_lines_to_anyone_but_tcd(
    request, client, invoice, tcd, persona
):
    upload(csv_statement([credit("?", "1", "A1")]), tcd)
    line = BankImportLine.objects.get()
    client.force_login(request.getfixturevalue(persona))
    url = reverse("invoicing:bank_import_detail", kwargs={"pk": line.bank_import_id})

    assert client.get(url).status_code == 403
    response = client.post(
        url, {"line": line.pk, f"line-{line.pk}-invoice_number": invoice.number}
    )
    assert response.status_code == 403
    assert BankImportLine.objects.get().status == BankImportLineStatus.UNMATCHED
