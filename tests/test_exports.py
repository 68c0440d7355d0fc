"""The CSV exports for accounting: every invoice and line, safe to open in a
spreadsheet, streamed in a number of queries that does not grow."""

import csv
import io
from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import lxml.html
import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from invoicing.exports import spreadsheet_cell
from invoicing.models import PaymentSource
from invoicing.payments import payment_record
from invoicing.services import credit_note_issue

from . import factories
from .payment_helpers import issued_invoice, issued_invoices

pytestmark = pytest.mark.django_db

BRUSSELS = ZoneInfo("Europe/Brussels")
INVOICES = "invoicing:export_invoices"
LINES = "invoicing:export_invoice_lines"


@pytest.mark.parametrize(
    ("value", "cell"),
    [
        (
            '=HYPERLINK("http://evil.example","klik")',
            '\'=HYPERLINK("http://evil.example","klik")',
        ),
        ("-Corp", "'-Corp"),
        ("+32 9 266 00 00", "'+32 9 266 00 00"),
        ("@SUM(A1:A9)", "'@SUM(A1:A9)"),
        ("\t=1+1", "'\t=1+1"),
        ("\r=1+1", "'\r=1+1"),
        ("-12.50", "'-12.50"),
        ("Stad Gent", "Stad Gent"),
        ("", ""),
        (None, ""),
        (Decimal("-12.50"), "-12.50"),
        (Decimal("290.40"), "290.40"),
        (Decimal("1E+2"), "100"),
        (3, "3"),
        (date(2026, 3, 31), "2026-03-31"),
    ],
)
def test_it_writes_a_cell_that_a_spreadsheet_shows_and_never_runs(value, cell):
    assert spreadsheet_cell(value) == cell


def rows_of(response):
    assert response.status_code == 200
    assert response.streaming
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    text = b"".join(response.streaming_content).decode("utf-8")
    assert text.startswith("\ufeff")
    return list(csv.DictReader(io.StringIO(text[1:])))


@pytest.fixture
def invoice(admin_a, cell, tcd):
    return issued_invoice(admin=admin_a, cell=cell, tcd=tcd)


@pytest.fixture
def as_tcd(client, tcd):
    client.force_login(tcd)
    return client


def test_it_exports_each_invoice_with_its_totals_and_references(as_tcd, invoice):
    response = as_tcd.get(reverse(INVOICES))

    assert response["Content-Disposition"] == 'attachment; filename="invoices.csv"'
    (row,) = rows_of(response)
    assert row == {
        "number": invoice.number,
        "kind": "invoice",
        "issue_date": invoice.issue_date.isoformat(),
        "due_date": invoice.due_date.isoformat(),
        "customer_name": "Stad Gent",
        "enterprise_number": "0207.451.227",
        "vat_number": "",
        "net_total": "240.00",
        "vat_total": "50.40",
        "gross_total": "290.40",
        "payment_status": "open",
        "paid_amount": "0.00",
        "structured_communication": invoice.structured_communication_display.strip("+"),
        "buyer_reference": "",
        "order_form_reference": invoice.order_form_reference,
        "corrects": "",
    }


def test_it_exports_a_credit_note_with_negative_amounts_that_stay_numbers(
    as_tcd, invoice, tcd
):
    credit_note = credit_note_issue(
        invoice=invoice,
        issued_by=tcd,
        reason="Eén toegang werd nooit gebruikt.",
        line_ids=[invoice.lines.order_by("position")[0].pk],
    )

    rows = {row["number"]: row for row in rows_of(as_tcd.get(reverse(INVOICES)))}
    lines = [
        row
        for row in rows_of(as_tcd.get(reverse(LINES)))
        if row["invoice_number"] == credit_note.number
    ]

    row = rows[credit_note.number]
    assert (row["kind"], row["corrects"]) == ("credit_note", invoice.number)
    assert [row["net_total"], row["vat_total"], row["gross_total"]] == [
        "-120.00",
        "-25.20",
        "-145.20",
    ]
    assert Decimal(row["gross_total"]) == Decimal("-145.20")
    assert (row["payment_status"], row["paid_amount"]) == ("", "")
    assert [(line["quantity"], line["amount"]) for line in lines] == [
        ("-1.00", "-120.00")
    ]


@pytest.mark.parametrize(
    "name", ['=HYPERLINK("http://evil.example","klik")', "-Corp", "+Zone", "@Zone"]
)
def test_it_neutralises_a_customer_name_a_spreadsheet_would_run(
    as_tcd, cell, tcd, ibz_agreement, name
):
    organisation = factories.OrganisationFactory(
        legal_name=name, contracting_authority=ibz_agreement.contracting_authority
    )
    admin = factories.OrganisationAdminFactory(organisation=organisation)
    issued_invoice(admin=admin, cell=cell, tcd=tcd)

    (row,) = rows_of(as_tcd.get(reverse(INVOICES)))

    assert row["customer_name"] == "'" + name
    assert row["gross_total"] == "290.40"


def test_it_exports_the_lines_with_their_price_source(as_tcd, invoice):
    rows = rows_of(as_tcd.get(reverse(LINES)))

    assert list(rows[0]) == [
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
    line = invoice.lines.order_by("position")[0]
    assert rows[0] == {
        "invoice_number": invoice.number,
        "position": "1",
        "description": line.description,
        "service_from": line.service_start.isoformat(),
        "service_to": line.service_end.isoformat(),
        "quantity": "1.00",
        "unit_price": "120.00",
        "amount": "120.00",
        "vat_rate": "21.00",
        "price_source": "IBZ/ICMS/2024/001",
    }
    assert [row["position"] for row in rows] == ["1", "2"]


def test_it_exports_the_overdue_and_paid_state_and_the_amount_paid(
    as_tcd, admin_a, cell, tcd
):
    with time_machine.travel(datetime(2026, 3, 2, 10, tzinfo=BRUSSELS), tick=False):
        paid, overdue = issued_invoices(admin=admin_a, cell=cell, tcd=tcd, count=2)
        payment_record(
            invoice=paid,
            amount=Decimal("145.20"),
            received_on=date(2026, 3, 2),
            recorded_by=tcd,
            source=PaymentSource.MANUAL,
        )

    with time_machine.travel(datetime(2026, 4, 2, 9, tzinfo=BRUSSELS)):
        rows = {row["number"]: row for row in rows_of(as_tcd.get(reverse(INVOICES)))}

    assert (rows[paid.number]["payment_status"], rows[paid.number]["paid_amount"]) == (
        "paid",
        "145.20",
    )
    assert rows[overdue.number]["payment_status"] == "overdue"


def test_it_exports_only_what_was_issued_between_the_days_asked(
    as_tcd, admin_a, admin_b, cell, tcd
):
    with time_machine.travel(datetime(2026, 1, 31, 12, tzinfo=BRUSSELS), tick=False):
        january = issued_invoice(admin=admin_a, cell=cell, tcd=tcd)
    with time_machine.travel(datetime(2026, 2, 1, 12, tzinfo=BRUSSELS), tick=False):
        february = issued_invoice(admin=admin_b, cell=cell, tcd=tcd)

    def numbers(view_name, field, **dates):
        response = as_tcd.get(reverse(view_name), dates)
        return {row[field] for row in rows_of(response)}

    assert numbers(INVOICES, "number", **{"to": "2026-01-31"}) == {january.number}
    assert numbers(INVOICES, "number", **{"from": "2026-02-01"}) == {february.number}
    assert numbers(
        INVOICES, "number", **{"from": "2026-01-01", "to": "2026-12-31"}
    ) == {january.number, february.number}
    assert numbers(LINES, "invoice_number", **{"from": "2026-02-01"}) == {
        february.number
    }
    response = as_tcd.get(reverse(INVOICES), {"from": "2026-02-01", "to": "2026-02-28"})
    assert response["Content-Disposition"] == (
        'attachment; filename="invoices_2026-02-01_2026-02-28.csv"'
    )


@pytest.mark.parametrize(
    ("dates", "message"),
    [
        ({"from": "31/01/2026"}, "“31/01/2026” is not a date written YYYY-MM-DD."),
        (
            {"from": "2026-02-01", "to": "2026-01-01"},
            "The first day comes after the last.",
        ),
    ],
)
def test_it_sends_back_to_the_invoices_with_a_message_for_bad_dates(
    as_tcd, dates, message
):
    response = as_tcd.get(reverse(INVOICES), dates, follow=True)

    assert response.redirect_chain[-1][0] == reverse("invoicing:invoice_list")
    shown = lxml.html.fromstring(response.content.decode()).xpath(
        '//ul[@class="messages"]/li'
    )
    assert [item.text_content() for item in shown] == [message]


@pytest.mark.parametrize("view_name", [INVOICES, LINES])
def test_it_streams_an_export_in_a_number_of_queries_that_does_not_grow(
    as_tcd, admin_a, admin_b, cell, tcd, view_name
):
    issued_invoice(admin=admin_a, cell=cell, tcd=tcd)
    with CaptureQueriesContext(connection) as with_one:
        few = rows_of(as_tcd.get(reverse(view_name)))
    for invoice in issued_invoices(admin=admin_b, cell=cell, tcd=tcd, count=4):
        payment_record(
            invoice=invoice,
            amount=Decimal("10.00"),
            received_on=invoice.issue_date,
            recorded_by=tcd,
            source=PaymentSource.MANUAL,
        )
        credit_note_issue(invoice=invoice, issued_by=tcd, reason="Fout.")

    with CaptureQueriesContext(connection) as with_nine:
        many = rows_of(as_tcd.get(reverse(view_name)))

    assert len(many) > len(few)
    assert len(with_nine) == len(with_one)


EXPORTS = [INVOICES, LINES]


@pytest.mark.parametrize("persona", ["admin_a", "admin_b", "cell"])
@pytest.mark.parametrize("view_name", EXPORTS)
def test_it_refuses_the_exports_to_anyone_but_tcd(
    request, client, invoice, persona, view_name
):
    client.force_login(request.getfixturevalue(persona))

    response = client.get(reverse(view_name))

    assert response.status_code == 403


@pytest.mark.parametrize("view_name", EXPORTS)
def test_it_sends_anonymous_visitors_of_the_exports_to_the_login(client, db, view_name):
    response = client.get(reverse(view_name))

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login"))


def test_it_links_the_exports_from_the_invoice_list_for_tcd_only(
    client, invoice, admin_a, tcd
):
    client.force_login(admin_a)
    as_admin = client.get(reverse("invoicing:invoice_list")).content.decode()
    client.force_login(tcd)
    as_tcd = lxml.html.fromstring(
        client.get(reverse("invoicing:invoice_list")).content.decode()
    )

    targets = as_tcd.xpath("//form/@action | //button/@formaction")
    assert reverse(INVOICES) in targets
    assert reverse(LINES) in targets
    assert reverse(INVOICES) not in as_admin
    assert reverse(LINES) not in as_admin
