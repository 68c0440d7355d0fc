from datetime import date, datetime
from decimal import Decimal

import pytest
import time_machine
from django.core.exceptions import ValidationError

from invoicing.models import InvoiceLine
from invoicing.services import invoice_issue, periods_to_invoice, price_in_force
from orders.models import AccessRequest
from subscriptions.models import SubscriptionPeriod
from subscriptions.periods import BRUSSELS
from subscriptions.services import icms_account_create

from . import factories

pytestmark = pytest.mark.django_db


def test_it_charges_the_agreement_price_without_amendments(ibz, ibz_agreement):
    price = price_in_force(contracting_authority=ibz, day=date(2026, 6, 1))

    assert price.amount == Decimal("120.00")
    assert price.agreement == ibz_agreement
    assert price.amendment is None
    assert price.reference == "IBZ/ICMS/2024/001"


def test_it_charges_the_agreement_price_on_its_first_day(ibz, ibz_agreement):
    price = price_in_force(contracting_authority=ibz, day=ibz_agreement.starts_on)

    assert price.amount == Decimal("120.00")


def test_it_charges_an_amended_price_from_the_day_it_applies(ibz, ibz_agreement):
    amendment = factories.PriceAmendmentFactory(
        agreement=ibz_agreement,
        reference="Addendum 1",
        yearly_price=Decimal("132.50"),
        applies_from=date(2027, 1, 1),
    )

    before = price_in_force(contracting_authority=ibz, day=date(2026, 12, 31))
    on_the_day = price_in_force(contracting_authority=ibz, day=date(2027, 1, 1))

    assert (before.amount, before.amendment) == (Decimal("120.00"), None)
    assert (on_the_day.amount, on_the_day.amendment) == (Decimal("132.50"), amendment)
    assert on_the_day.agreement == ibz_agreement
    assert on_the_day.reference == "Addendum 1"


def test_it_charges_the_latest_of_two_amendments(ibz, ibz_agreement):
    # Agreed in the reverse order of their dates, to show the date decides.
    second = factories.PriceAmendmentFactory(
        agreement=ibz_agreement,
        yearly_price=Decimal("140.00"),
        applies_from=date(2028, 7, 1),
    )
    first = factories.PriceAmendmentFactory(
        agreement=ibz_agreement,
        yearly_price=Decimal("130.00"),
        applies_from=date(2027, 1, 1),
    )

    def price_on(day):
        price = price_in_force(contracting_authority=ibz, day=day)
        return price.amount, price.amendment

    assert price_on(date(2026, 12, 31)) == (Decimal("120.00"), None)
    assert price_on(date(2027, 1, 1)) == (Decimal("130.00"), first)
    assert price_on(date(2028, 6, 30)) == (Decimal("130.00"), first)
    assert price_on(date(2028, 7, 1)) == (Decimal("140.00"), second)


def test_it_ignores_the_agreements_of_another_authority(ibz, ibz_agreement):
    other = factories.ContractingAuthorityFactory(
        name="Nationaal Crisiscentrum", short_name="NCCN"
    )
    factories.FrameworkAgreementFactory(
        contracting_authority=other, yearly_price=Decimal("99.00")
    )

    price = price_in_force(contracting_authority=ibz, day=date(2026, 6, 1))

    assert price.amount == Decimal("120.00")


def test_it_refuses_a_day_before_any_agreement(ibz, ibz_agreement):
    with pytest.raises(ValidationError) as raised:
        price_in_force(contracting_authority=ibz, day=date(2023, 12, 31))

    assert raised.value.code == "no_price"
    assert "IBZ" in raised.value.messages[0]


def test_it_refuses_an_authority_without_an_agreement(db):
    authority = factories.ContractingAuthorityFactory(
        name="Nationaal Crisiscentrum", short_name="NCCN"
    )

    with pytest.raises(ValidationError) as raised:
        price_in_force(contracting_authority=authority, day=date(2026, 6, 1))

    assert raised.value.code == "no_price"


def _accounts_activated_on(*, admin, cell, activation_dates):
    """One ICMS account per activation date, all on one order form."""
    order_form = factories.submitted_order_form(
        admin=admin, cell=cell, quantity=len(activation_dates)
    )
    for line, activation_date in zip(
        order_form.lines.all(), activation_dates, strict=True
    ):
        icms_account_create(
            order_line=line,
            username=f"gent.{line.position}",
            activation_date=activation_date,
            created_by=cell,
        )
    return AccessRequest.objects.get(pk=order_form.access_request_id)


def test_it_invoices_each_period_at_the_price_of_its_first_day(
    ibz_agreement, admin_a, cell, tcd
):
    amendment = factories.PriceAmendmentFactory(
        agreement=ibz_agreement,
        reference="Addendum 1",
        yearly_price=Decimal("132.50"),
        applies_from=date(2027, 1, 1),
    )
    with time_machine.travel(datetime(2026, 12, 31, 10, tzinfo=BRUSSELS), tick=False):
        _accounts_activated_on(
            admin=admin_a,
            cell=cell,
            activation_dates=[date(2026, 12, 31), date(2027, 1, 1)],
        )

    with time_machine.travel(datetime(2027, 1, 4, 10, tzinfo=BRUSSELS), tick=False):
        due = list(periods_to_invoice())
        invoice = invoice_issue(
            organisation=admin_a.organisation,
            period_ids=[period.pk for period in due],
            issued_by=tcd,
        )

    old, new = invoice.lines.order_by("service_start")
    assert (old.service_start, old.unit_price, old.net_amount) == (
        date(2026, 12, 31),
        Decimal("120.00"),
        Decimal("120.00"),
    )
    assert (old.agreement, old.amendment) == (ibz_agreement, None)
    assert (new.service_start, new.unit_price, new.net_amount) == (
        date(2027, 1, 1),
        Decimal("132.50"),
        Decimal("132.50"),
    )
    assert (new.agreement, new.amendment) == (ibz_agreement, amendment)
    assert new.price_source == "Addendum 1"
    assert old.price_source == ibz_agreement.reference


def test_it_prices_a_renewal_at_the_price_in_force_when_it_begins(
    ibz_agreement, admin_a, cell, tcd
):
    with time_machine.travel(datetime(2026, 3, 2, 10, tzinfo=BRUSSELS), tick=False):
        _accounts_activated_on(
            admin=admin_a, cell=cell, activation_dates=[date(2026, 3, 2)]
        )
    amendment = factories.PriceAmendmentFactory(
        agreement=ibz_agreement,
        yearly_price=Decimal("125.00"),
        applies_from=date(2027, 1, 1),
    )
    first = SubscriptionPeriod.objects.get()
    # The renewal job adds the second period on the anniversary.
    renewal = SubscriptionPeriod.objects.create(
        subscription=first.subscription,
        index=1,
        start=date(2027, 3, 2),
        end=date(2028, 3, 1),
    )

    with time_machine.travel(datetime(2027, 3, 2, 10, tzinfo=BRUSSELS), tick=False):
        invoice = invoice_issue(
            organisation=admin_a.organisation,
            period_ids=[first.pk, renewal.pk],
            issued_by=tcd,
        )

    prices = {
        line.period_id: (line.unit_price, line.amendment)
        for line in invoice.lines.all()
    }
    assert prices == {
        first.pk: (Decimal("120.00"), None),
        renewal.pk: (Decimal("125.00"), amendment),
    }


def test_it_keeps_an_issued_line_as_it_was_when_the_price_changes(
    ibz_agreement, admin_a, cell, tcd
):
    with time_machine.travel(datetime(2026, 5, 4, 10, tzinfo=BRUSSELS), tick=False):
        _accounts_activated_on(
            admin=admin_a, cell=cell, activation_dates=[date(2026, 5, 4)]
        )
        invoice = invoice_issue(
            organisation=admin_a.organisation,
            period_ids=[SubscriptionPeriod.objects.get().pk],
            issued_by=tcd,
        )
    # Agreed afterwards, and dated from before the period began.
    factories.PriceAmendmentFactory(
        agreement=ibz_agreement,
        yearly_price=Decimal("150.00"),
        applies_from=date(2026, 1, 1),
    )

    line = InvoiceLine.objects.get(invoice=invoice)
    invoice.refresh_from_db()
    assert (line.unit_price, line.net_amount) == (Decimal("120.00"), Decimal("120.00"))
    assert (line.agreement, line.amendment) == (ibz_agreement, None)
    assert invoice.net_total == Decimal("120.00")
