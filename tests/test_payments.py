"""Payments of an invoice: recorded by TCD, paid once they reach what is due."""

from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import lxml.html
import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext

from audit.models import AuditEntry
from invoicing.models import Invoice, Payment, PaymentSource, PaymentState
from invoicing.payments import payment_record
from invoicing.services import credit_note_issue

from .payment_helpers import GROSS, issued_invoice, issued_invoices

pytestmark = pytest.mark.django_db

BRUSSELS = ZoneInfo("Europe/Brussels")


@pytest.fixture
def invoice(admin_a, cell, tcd):
    return issued_invoice(admin=admin_a, cell=cell, tcd=tcd)


def pay(invoice, amount, tcd, received_on=None):
    return payment_record(
        invoice=invoice,
        amount=Decimal(amount),
        received_on=received_on or timezone.localdate(),
        recorded_by=tcd,
        source=PaymentSource.MANUAL,
    )


def status_of(invoice):
    return Invoice.objects.get(pk=invoice.pk).payment_status


def test_it_keeps_an_invoice_open_after_a_partial_payment(invoice, tcd):
    recorded = pay(invoice, "100.00", tcd)

    assert status_of(invoice) == "open"
    assert not recorded.paid_in_full
    assert recorded.overpaid_by == 0
    assert Payment.objects.get().amount == Decimal("100.00")


def test_it_marks_an_invoice_paid_once_the_payments_reach_its_total(invoice, tcd):
    pay(invoice, "100.00", tcd)

    recorded = pay(invoice, GROSS - Decimal("100.00"), tcd)

    assert status_of(invoice) == "paid"
    assert recorded.paid_in_full
    assert recorded.overpaid_by == 0


def test_it_writes_an_audit_entry_for_each_payment(invoice, tcd):
    pay(invoice, "100.00", tcd)
    pay(invoice, GROSS - Decimal("100.00"), tcd)

    entries = AuditEntry.objects.filter(action="payment.recorded").order_by("pk")
    assert [entry.data["payment_status"] for entry in entries] == ["open", "paid"]
    assert all(entry.actor == tcd for entry in entries)
    assert entries[0].object_id == str(invoice.pk)
    assert entries[0].organisation == invoice.organisation


def test_it_deducts_the_credit_notes_from_what_is_due(invoice, tcd):
    credit_note_issue(
        invoice=invoice,
        issued_by=tcd,
        reason="Eén toegang werd nooit gebruikt.",
        line_ids=[invoice.lines.order_by("position")[0].pk],
    )

    recorded = pay(invoice, "145.20", tcd)

    assert status_of(invoice) == "paid"
    assert recorded.overpaid_by == 0


def test_it_records_an_overpayment_and_tells_by_how_much(invoice, tcd):
    recorded = pay(invoice, "300.00", tcd)

    assert status_of(invoice) == "paid"
    assert recorded.overpaid_by == Decimal("9.60")
    assert Payment.objects.get().amount == Decimal("300.00")


def test_it_records_a_payment_on_a_paid_invoice_as_an_overpayment(invoice, tcd):
    pay(invoice, GROSS, tcd)

    recorded = pay(invoice, "10.00", tcd)

    assert not recorded.paid_in_full
    assert recorded.overpaid_by == Decimal("10.00")
    assert Payment.objects.count() == 2


def test_it_refuses_a_payment_for_a_credit_note(invoice, tcd):
    credit_note = credit_note_issue(invoice=invoice, issued_by=tcd, reason="Fout.")

    with pytest.raises(ValidationError, match="credit note"):
        pay(credit_note, "10.00", tcd)
    assert not Payment.objects.exists()


@pytest.mark.parametrize("amount", ["0", "-12.50", "0.001"])
def test_it_refuses_an_amount_that_is_not_a_positive_number_of_cents(
    invoice, tcd, amount
):
    with pytest.raises(ValidationError) as raised:
        pay(invoice, amount, tcd)

    assert "amount" in raised.value.error_dict
    assert not Payment.objects.exists()


def test_it_refuses_a_payment_received_after_today(invoice, tcd):
    with pytest.raises(ValidationError) as raised:
        pay(invoice, "10.00", tcd, received_on=timezone.localdate() + timedelta(1))

    assert "received_on" in raised.value.error_dict


@pytest.mark.parametrize("persona", ["admin_a", "cell"])
def test_it_lets_only_tcd_record_a_payment(request, invoice, persona):
    user = request.getfixturevalue(persona)

    with pytest.raises(ValidationError, match="role"):
        pay(invoice, "10.00", user)
    assert not Payment.objects.exists()


def test_it_shows_an_open_invoice_overdue_from_the_day_after_its_due_date_in_brussels(
    admin_a, cell, tcd
):
    with time_machine.travel(datetime(2026, 3, 2, 10, tzinfo=BRUSSELS), tick=False):
        invoice = issued_invoice(admin=admin_a, cell=cell, tcd=tcd)
    assert invoice.due_date == date(2026, 4, 1)

    # 23:30 in Brussels is already 2 April in some places, not yet here.
    with time_machine.travel(datetime(2026, 4, 1, 23, 30, tzinfo=BRUSSELS)):
        assert invoice.payment_state == PaymentState.OPEN
    with time_machine.travel(datetime(2026, 4, 2, 0, 30, tzinfo=BRUSSELS)):
        assert invoice.is_overdue
        assert invoice.payment_state == PaymentState.OVERDUE
        pay(invoice, GROSS, tcd)
        assert Invoice.objects.get(pk=invoice.pk).payment_state == PaymentState.PAID


def test_it_shows_no_payment_state_for_a_credit_note(invoice, tcd):
    with time_machine.travel(timezone.now() + timedelta(days=400)):
        credit_note = credit_note_issue(invoice=invoice, issued_by=tcd, reason="Fout.")

        assert credit_note.payment_state is None
        assert not credit_note.is_overdue


def said_to(user, message):
    """``message`` as ``user`` reads it: in the language of their profile."""
    with translation.override(user.language):
        return gettext(message)


def page(response):
    return lxml.html.fromstring(response.content.decode())


def test_it_records_a_payment_from_the_invoice_page(client, invoice, tcd):
    client.force_login(tcd)
    detail = client.get(reverse("invoicing:invoice_detail", kwargs={"pk": invoice.pk}))
    form = page(detail).xpath('//form[.//button[text()="Record the payment"]]')[0]

    response = client.post(
        form.get("action"),
        {"amount": "290,40", "received_on": "2026-01-05"},
        follow=True,
    )

    payment = Payment.objects.get()
    assert payment.amount == GROSS
    assert payment.received_on == date(2026, 1, 5)
    assert payment.source == PaymentSource.MANUAL
    assert payment.recorded_by == tcd
    assert response.redirect_chain[-1][0] == reverse(
        "invoicing:invoice_detail", kwargs={"pk": invoice.pk}
    )
    assert f"{invoice.number} is paid." in response.content.decode()


def test_it_flags_an_overpayment_on_the_page(client, invoice, tcd):
    client.force_login(tcd)

    response = client.post(
        reverse("invoicing:payment_new", kwargs={"pk": invoice.pk}),
        {"amount": "300", "received_on": timezone.localdate().isoformat()},
        follow=True,
    )

    warnings = page(response).xpath('//ul[@class="messages"]/li[@class="warning"]')
    assert [warning.text_content() for warning in warnings] == [
        f"{invoice.number} is overpaid by €\u00a09.60: the payment is recorded; "
        "agree with the customer on a refund."
    ]
    assert "Overpaid by" in response.content.decode()


def test_it_shows_the_form_again_beside_a_bad_amount(client, invoice, tcd):
    client.force_login(tcd)

    response = client.post(
        reverse("invoicing:payment_new", kwargs={"pk": invoice.pk}),
        {"amount": "twaalf", "received_on": timezone.localdate().isoformat()},
    )

    assert response.status_code == 200
    errors = page(response).xpath(
        '//div[contains(@class, "has-error")][.//*[@name="amount"]]//p[@class="error"]'
    )
    assert [error.text for error in errors] == ["Write an amount such as 1234,56."]
    assert not Payment.objects.exists()


def test_it_shows_the_payment_form_to_tcd_only(client, invoice, admin_a, tcd):
    url = reverse("invoicing:invoice_detail", kwargs={"pk": invoice.pk})
    client.force_login(admin_a)
    as_admin = client.get(url).content.decode()
    client.force_login(tcd)
    as_tcd = client.get(url).content.decode()

    assert said_to(admin_a, "Record a payment") not in as_admin
    assert said_to(tcd, "Record a payment") in as_tcd
    assert said_to(admin_a, "Still to pay") in as_admin


@pytest.mark.parametrize("persona", ["admin_a", "cell"])
def test_it_refuses_the_payment_page_to_anyone_but_tcd(
    request, client, invoice, persona
):
    client.force_login(request.getfixturevalue(persona))
    url = reverse("invoicing:payment_new", kwargs={"pk": invoice.pk})

    assert client.get(url).status_code == 403
    assert (
        client.post(url, {"amount": "1", "received_on": "2026-01-01"}).status_code
        == 403
    )
    assert not Payment.objects.exists()


def test_it_sends_an_anonymous_visitor_of_the_payment_page_to_the_login(
    client, invoice
):
    response = client.get(reverse("invoicing:payment_new", kwargs={"pk": invoice.pk}))

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login"))


def test_it_lists_the_payment_state_with_the_date_and_amount_paid(client, tcd, invoice):
    pay(invoice, GROSS, tcd, received_on=date(2026, 1, 5))
    client.force_login(tcd)

    response = client.get(reverse("invoicing:invoice_list"))

    state = page(response).xpath("//tbody/tr/td[6]")[0].text_content()
    assert " ".join(state.split()) == "Paid 05/01/2026 · € 290.40"


def test_it_lists_invoices_in_a_number_of_queries_that_does_not_grow(
    client, admin_b, cell, tcd, invoice
):
    client.force_login(tcd)
    with CaptureQueriesContext(connection) as with_one:
        client.get(reverse("invoicing:invoice_list"))
    for other in issued_invoices(admin=admin_b, cell=cell, tcd=tcd, count=3):
        pay(other, "10", tcd)

    with CaptureQueriesContext(connection) as with_four:
        response = client.get(reverse("invoicing:invoice_list"))

    assert len(page(response).xpath("//tbody/tr")) == 4
    assert len(with_four) == len(with_one)
