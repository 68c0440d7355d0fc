"""TCD's invoicing work: runs, prices, credit notes and the base-package ledger."""

from datetime import date
from decimal import Decimal

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.urls import reverse

from audit.models import AuditEntry
from invoicing import prices, runs
from invoicing.models import (
    Invoice,
    InvoiceKind,
    InvoiceLine,
    InvoiceRunItemStatus,
    InvoiceRunStatus,
    PriceAmendment,
)
from invoicing.services import credit_note_issue, invoice_issue, periods_to_invoice

from . import factories

pytestmark = pytest.mark.django_db

TODAY = date(2026, 3, 2)


@pytest.fixture(autouse=True)
def _brussels_morning():
    with time_machine.travel("2026-03-02 09:00 +01:00", tick=False):
        yield


def _activated(admin, cell, quantity=2):
    factories.created_accounts(
        admin=admin, cell=cell, quantity=quantity, activation_date=TODAY
    )
    return list(
        periods_to_invoice().filter(
            subscription__account__organisation=admin.organisation
        )
    )


def test_it_drafts_one_item_per_organisation_with_totals_and_issues_nothing(
    admin_a, admin_b, cell, tcd
):
    _activated(admin_a, cell, quantity=2)
    _activated(admin_b, cell, quantity=1)

    run = runs.invoice_run_draft(as_of=TODAY, created_by=tcd)

    items = {item.organisation: item for item in run.items.all()}
    assert run.status == InvoiceRunStatus.DRAFT
    assert Invoice.objects.count() == 0
    # 120.00 a year per access at 21% VAT, from the shared agreement.
    assert items[admin_a.organisation].net_total == Decimal("240.00")
    assert items[admin_a.organisation].vat_total == Decimal("50.40")
    assert items[admin_a.organisation].gross_total == Decimal("290.40")
    assert items[admin_b.organisation].gross_total == Decimal("145.20")


def test_it_issues_a_started_run_once_even_when_processed_again(
    admin_a, admin_b, cell, tcd
):
    _activated(admin_a, cell)
    _activated(admin_b, cell)
    run = runs.invoice_run_draft(as_of=TODAY, created_by=tcd)

    runs.invoice_run_start(run=run, started_by=tcd)
    run.refresh_from_db()
    runs.invoice_run_process(run_pk=run.pk)
    runs.invoice_runs_resume()

    run.refresh_from_db()
    assert run.status == InvoiceRunStatus.DONE
    assert Invoice.objects.filter(kind=InvoiceKind.INVOICE).count() == 2
    assert all(item.status == InvoiceRunItemStatus.ISSUED for item in run.items.all())
    assert list(periods_to_invoice()) == []


def test_it_resumes_a_run_interrupted_half_way(
    admin_a, admin_b, cell, tcd, monkeypatch
):
    _activated(admin_a, cell)
    _activated(admin_b, cell)
    run = runs.invoice_run_draft(as_of=TODAY, created_by=tcd)
    first, second = run.items.order_by("pk")
    # The worker dies after the first invoice: the task never runs on commit.
    monkeypatch.setattr(runs, "_enqueue", lambda run_pk: None)
    runs.invoice_run_start(run=run, started_by=tcd)
    assert runs.invoice_run_item_issue(item_pk=first.pk) is True

    runs.invoice_runs_resume()

    second.refresh_from_db()
    run.refresh_from_db()
    assert second.status == InvoiceRunItemStatus.ISSUED
    assert run.status == InvoiceRunStatus.DONE
    assert Invoice.objects.count() == 2
    assert runs.invoice_run_item_issue(item_pk=first.pk) is False


def test_it_skips_an_item_invoiced_meanwhile_and_says_why(
    admin_a, cell, tcd, django_capture_on_commit_callbacks
):
    periods = _activated(admin_a, cell)
    run = runs.invoice_run_draft(as_of=TODAY, created_by=tcd)
    invoice_issue(
        organisation=admin_a.organisation,
        period_ids=[period.pk for period in periods],
        issued_by=tcd,
    )

    with django_capture_on_commit_callbacks(execute=True):
        runs.invoice_run_start(run=run, started_by=tcd)

    item = run.items.get()
    assert item.status == InvoiceRunItemStatus.SKIPPED
    assert "invoiced meanwhile" in item.problem
    assert Invoice.objects.count() == 1


def test_it_starts_a_draft_only_once(admin_a, cell, tcd):
    _activated(admin_a, cell)
    run = runs.invoice_run_draft(as_of=TODAY, created_by=tcd)
    runs.invoice_run_start(run=run, started_by=tcd)

    with pytest.raises(ValidationError, match="already started"):
        runs.invoice_run_start(run=run, started_by=tcd)


def test_it_refuses_a_run_for_a_day_to_come(tcd):
    with pytest.raises(ValidationError) as error:
        runs.invoice_run_draft(as_of=date(2026, 3, 3), created_by=tcd)

    assert "as_of" in error.value.message_dict


def test_it_records_an_amendment_that_prices_later_periods_only(ibz_agreement, tcd):
    amendment = prices.price_amendment_add(
        agreement=ibz_agreement,
        reference="IBZ/ICMS/2024/001-A1",
        yearly_price=Decimal("130.00"),
        applies_from=date(2026, 4, 1),
        created_by=tcd,
    )

    assert amendment.yearly_price == Decimal("130.00")
    assert AuditEntry.objects.filter(action="price_amendment.added").count() == 1


def test_it_refuses_an_amendment_before_the_agreement_or_twice_on_one_day(
    ibz_agreement, tcd
):
    with pytest.raises(ValidationError) as before:
        prices.price_amendment_add(
            agreement=ibz_agreement,
            reference="A0",
            yearly_price=Decimal("1.00"),
            applies_from=ibz_agreement.starts_on,
            created_by=tcd,
        )
    prices.price_amendment_add(
        agreement=ibz_agreement,
        reference="A1",
        yearly_price=Decimal("130.00"),
        applies_from=date(2026, 4, 1),
        created_by=tcd,
    )
    with pytest.raises(ValidationError) as twice:
        prices.price_amendment_add(
            agreement=ibz_agreement,
            reference="A2",
            yearly_price=Decimal("140.00"),
            applies_from=date(2026, 4, 1),
            created_by=tcd,
        )

    assert "applies_from" in before.value.message_dict
    assert "applies_from" in twice.value.message_dict
    assert PriceAmendment.objects.count() == 1


def test_it_lets_only_tcd_record_prices(ibz_agreement, cell, admin_a):
    for user in (cell, admin_a):
        with pytest.raises(ValidationError, match="role"):
            prices.price_amendment_add(
                agreement=ibz_agreement,
                reference="A1",
                yearly_price=Decimal("1.00"),
                applies_from=date(2026, 4, 1),
                created_by=user,
            )


def _issued_invoice(admin, cell, tcd, quantity=2):
    periods = _activated(admin, cell, quantity=quantity)
    return invoice_issue(
        organisation=admin.organisation,
        period_ids=[period.pk for period in periods],
        issued_by=tcd,
    )


def test_it_credits_chosen_lines_in_its_own_series(admin_a, cell, tcd):
    invoice = _issued_invoice(admin_a, cell, tcd)
    first_line = invoice.lines.order_by("position").first()

    credit_note = credit_note_issue(
        invoice=invoice, issued_by=tcd, reason="Wrong holder", line_ids=[first_line.pk]
    )

    assert credit_note.kind == InvoiceKind.CREDIT_NOTE
    assert credit_note.number == "CN-2026-000001"
    assert credit_note.corrects == invoice
    assert credit_note.net_total == Decimal("120.00")
    assert credit_note.gross_total == Decimal("145.20")
    assert credit_note.customer_name == invoice.customer_name
    assert credit_note.structured_communication == ""


def test_it_never_credits_a_line_twice(admin_a, cell, tcd):
    invoice = _issued_invoice(admin_a, cell, tcd)
    credit_note_issue(invoice=invoice, issued_by=tcd, reason="Wrong price")

    with pytest.raises(ValidationError, match="already credited"):
        credit_note_issue(invoice=invoice, issued_by=tcd, reason="Again")

    credited = sum(
        note.gross_total for note in Invoice.objects.filter(corrects=invoice)
    )
    assert credited == invoice.gross_total


def test_it_needs_a_reason_for_a_credit_note(admin_a, cell, tcd):
    invoice = _issued_invoice(admin_a, cell, tcd)

    with pytest.raises(ValidationError) as error:
        credit_note_issue(invoice=invoice, issued_by=tcd, reason=" ")

    assert "reason" in error.value.message_dict
    assert Invoice.objects.count() == 1


def test_it_keeps_an_issued_invoice_and_its_lines_unchanged_in_the_database(
    admin_a, cell, tcd
):
    invoice = _issued_invoice(admin_a, cell, tcd)

    with pytest.raises(RuntimeError):
        invoice.save()
    with pytest.raises(RuntimeError):
        invoice.delete()
    for statement in (
        "UPDATE invoicing_invoice SET gross_total = 0 WHERE id = %s",
        "DELETE FROM invoicing_invoice WHERE id = %s",
        "UPDATE invoicing_invoiceline SET unit_price = 0 WHERE invoice_id = %s",
        "DELETE FROM invoicing_invoiceline WHERE invoice_id = %s",
    ):
        with (
            pytest.raises(Exception, match="never"),
            transaction.atomic(),
            connection.cursor() as cursor,
        ):
            cursor.execute(statement, [invoice.pk])

    Invoice.objects.filter(pk=invoice.pk).update(payment_status="paid")
    assert InvoiceLine.objects.filter(invoice=invoice).count() == 2


def test_it_shows_the_base_package_ledger_to_tcd(client, admin_a, cell, tcd):
    organisation = admin_a.organisation
    organisation.base_package_allocation = 1
    organisation.save()
    for number in range(2):
        factories.base_package_account(
            organisation=organisation, activation_date=TODAY, username=f"base{number}"
        )
    _activated(admin_a, cell, quantity=1)
    client.force_login(tcd)

    response = client.get(reverse("invoicing:base_package_ledger"))

    row = next(o for o in response.context["organisations"] if o == organisation)
    assert (row.base_in_use, row.additional, row.base_free) == (2, 1, -1)
    assert "1 over the package" in response.content.decode()


def test_it_walks_a_run_through_the_pages(
    client, admin_a, cell, tcd, django_capture_on_commit_callbacks
):
    _activated(admin_a, cell)
    client.force_login(tcd)

    drafted = client.post(reverse("invoicing:run_list"), {"as_of": "2026-03-02"})
    run_url = drafted.headers["Location"]
    draft_page = client.get(run_url)
    with django_capture_on_commit_callbacks(execute=True):
        started = client.post(run_url, {"action": "start"})
    done_page = client.get(run_url)

    assert (
        "290,40" in draft_page.content.decode()
        or "290.40" in draft_page.content.decode()
    )
    assert started.status_code == 302
    invoice = Invoice.objects.get()
    assert invoice.number in done_page.content.decode()


def test_it_shows_a_clear_message_for_a_bad_amendment(client, ibz_agreement, tcd):
    client.force_login(tcd)

    response = client.post(
        reverse("invoicing:price_list"),
        {
            "form": "amendment",
            "amendment-agreement": ibz_agreement.pk,
            "amendment-reference": "A1",
            "amendment-yearly_price": "-5",
            "amendment-applies_from": "2026-04-01",
        },
    )

    assert response.status_code == 200
    assert PriceAmendment.objects.count() == 0
    assert response.context["amendment"].errors["yearly_price"]


def test_it_rejects_a_duplicate_amendment_day_in_the_schema(ibz_agreement):
    PriceAmendment.objects.create(
        agreement=ibz_agreement,
        reference="A1",
        yearly_price=Decimal("1.00"),
        applies_from=date(2026, 4, 1),
    )
    with pytest.raises(IntegrityError), transaction.atomic():
        PriceAmendment.objects.create(
            agreement=ibz_agreement,
            reference="A2",
            yearly_price=Decimal("2.00"),
            applies_from=date(2026, 4, 1),
        )


def test_it_settles_an_invoice_that_a_credit_note_leaves_nothing_to_pay(
    admin_a, cell, tcd
):
    from invoicing.models import PaymentStatus
    from invoicing.payments import payment_record

    invoice = _issued_invoice(admin_a, cell, tcd)
    first_line = invoice.lines.order_by("position").first()
    payment_record(
        invoice=invoice,
        amount=Decimal("145.20"),
        received_on=TODAY,
        recorded_by=tcd,
        source="manual",
    )
    invoice.refresh_from_db()
    assert invoice.payment_status == PaymentStatus.OPEN

    credit_note_issue(
        invoice=invoice,
        issued_by=tcd,
        reason="One access too many",
        line_ids=[first_line.pk],
    )

    invoice.refresh_from_db()
    assert invoice.payment_status == PaymentStatus.PAID
