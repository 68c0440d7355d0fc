"""Invoice numbers: one series per kind and year, gapless, never given twice."""

import threading
import time
from datetime import UTC, date, datetime

import pytest
import time_machine
from django.db import connection, transaction
from stdnum.be import ogm_vcs

from invoicing.models import Invoice, InvoiceKind, InvoiceSequence
from invoicing.services import invoice_issue, invoice_number_take, periods_to_invoice
from subscriptions.models import SubscriptionPeriod
from subscriptions.periods import BRUSSELS

from . import factories


def brussels(*moment):
    return time_machine.travel(datetime(*moment, tzinfo=BRUSSELS), tick=False)


def issue(organisation, tcd, periods=None):
    """Invoice the given periods of an organisation, or all its due ones."""
    if periods is None:
        periods = periods_to_invoice().filter(
            subscription__account__organisation=organisation
        )
    return invoice_issue(
        organisation=organisation,
        period_ids=[period.pk for period in periods],
        issued_by=tcd,
    )


@pytest.mark.django_db
def test_it_numbers_invoices_from_one_in_a_year(admin_a, admin_b, cell, tcd):
    with brussels(2027, 5, 3, 9):
        factories.created_accounts(admin=admin_a, cell=cell)
        factories.created_accounts(admin=admin_b, cell=cell)

        first = issue(admin_a.organisation, tcd)
        second = issue(admin_b.organisation, tcd)

    assert (first.year, first.sequence, first.number) == (2027, 1, "INV-2027-000001")
    assert (second.year, second.sequence, second.number) == (2027, 2, "INV-2027-000002")


@pytest.mark.django_db
def test_it_derives_the_structured_communication_from_the_number(admin_a, cell, tcd):
    with brussels(2027, 5, 3, 9):
        factories.created_accounts(admin=admin_a, cell=cell)
        invoice = issue(admin_a.organisation, tcd)

    assert invoice.structured_communication.startswith("2027000001")
    assert ogm_vcs.validate(invoice.structured_communication)


@pytest.mark.django_db
def test_it_gives_back_the_number_of_a_rolled_back_invoice(admin_a, admin_b, cell, tcd):
    with brussels(2027, 5, 3, 9):
        factories.created_accounts(admin=admin_a, cell=cell)
        factories.created_accounts(admin=admin_b, cell=cell)
        issue(admin_a.organisation, tcd)

        with pytest.raises(RuntimeError), transaction.atomic():
            rolled_back = issue(admin_b.organisation, tcd)
            raise RuntimeError("The mail server timed out.")
        after = issue(admin_b.organisation, tcd)

    assert rolled_back.number == "INV-2027-000002"
    assert after.number == "INV-2027-000002"
    assert list(Invoice.objects.order_by("sequence").values_list("sequence")) == [
        (1,),
        (2,),
    ]


@pytest.mark.django_db
def test_it_restarts_the_numbers_each_year_in_brussels(admin_a, cell, tcd):
    with brussels(2027, 12, 1, 9):
        factories.created_accounts(admin=admin_a, cell=cell, quantity=4)
    first, second, third, fourth = SubscriptionPeriod.objects.order_by("pk")

    with brussels(2027, 12, 30, 16):
        december = issue(admin_a.organisation, tcd, [first])
    with brussels(2027, 12, 31, 23, 59):
        new_years_eve = issue(admin_a.organisation, tcd, [second])
    # 31 December 23:30 UTC is already 1 January in Brussels.
    with time_machine.travel(datetime(2027, 12, 31, 23, 30, tzinfo=UTC), tick=False):
        new_year = issue(admin_a.organisation, tcd, [third])
    with brussels(2028, 1, 2, 9):
        next_day = issue(admin_a.organisation, tcd, [fourth])

    assert [
        (invoice.number, invoice.issue_date)
        for invoice in (december, new_years_eve, new_year, next_day)
    ] == [
        ("INV-2027-000001", date(2027, 12, 30)),
        ("INV-2027-000002", date(2027, 12, 31)),
        ("INV-2028-000001", date(2028, 1, 1)),
        ("INV-2028-000002", date(2028, 1, 2)),
    ]


@pytest.mark.django_db
def test_it_keeps_a_separate_series_for_credit_notes():
    with transaction.atomic():
        numbers = [
            invoice_number_take(kind=InvoiceKind.INVOICE, year=2027),
            invoice_number_take(kind=InvoiceKind.INVOICE, year=2027),
            invoice_number_take(kind=InvoiceKind.CREDIT_NOTE, year=2027),
            invoice_number_take(kind=InvoiceKind.INVOICE, year=2028),
        ]

    assert numbers == [1, 2, 1, 1]


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("earlier_invoices", [0, 1], ids=["first-of-year", "later"])
def test_it_numbers_two_invoices_issued_at_the_same_moment_one_after_the_other(
    monkeypatch, admin_a, admin_b, cell, tcd, earlier_invoices
):
    factories.created_accounts(admin=admin_a, cell=cell, quantity=2)
    factories.created_accounts(admin=admin_b, cell=cell, quantity=1)
    earlier, racing_a = periods_to_invoice().filter(
        subscription__account__organisation=admin_a.organisation
    )
    racing = [(admin_a.organisation, [racing_a])] + [(admin_b.organisation, None)]
    if earlier_invoices:
        # The year's sequence row exists already: only its lock keeps the two
        # issues apart, not the insertion of the row.
        issue(admin_a.organisation, tcd, [earlier])

    # Each issue pauses between reading the last number and writing the next,
    # so that the other one certainly reads while the first is still open.
    save = InvoiceSequence.save

    def slow_save(sequence, *args, **kwargs):
        time.sleep(0.3)
        return save(sequence, *args, **kwargs)

    monkeypatch.setattr(InvoiceSequence, "save", slow_save)

    start = threading.Barrier(len(racing))
    issued, failures = [], []

    def issue_in_own_connection(organisation, periods):
        try:
            start.wait(timeout=10)
            issued.append(issue(organisation, tcd, periods))
        except Exception as error:  # reported by the assertion below
            failures.append(error)
        finally:
            connection.close()

    threads = [
        threading.Thread(target=issue_in_own_connection, args=arguments)
        for arguments in racing
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert failures == []
    expected = [earlier_invoices + 1, earlier_invoices + 2]
    assert sorted(invoice.sequence for invoice in issued) == expected
    assert {invoice.organisation for invoice in issued} == {
        admin_a.organisation,
        admin_b.organisation,
    }
    [sequence] = InvoiceSequence.objects.filter(kind=InvoiceKind.INVOICE)
    assert sequence.last_number == earlier_invoices + 2
    assert sorted(Invoice.objects.values_list("sequence", flat=True)) == list(
        range(1, earlier_invoices + 3)
    )
