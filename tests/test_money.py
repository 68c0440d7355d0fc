from dataclasses import dataclass
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from invoicing.money import invoice_totals, round_money, vat_breakdown


@dataclass
class Line:
    net_amount: Decimal
    vat_rate: Decimal = Decimal("21.00")


@pytest.mark.parametrize(
    ("amount", "rounded"),
    [
        ("0.125", "0.13"),
        ("2.675", "2.68"),
        ("2.665", "2.67"),
        ("0.005", "0.01"),
        ("0.0049", "0.00"),
        ("-0.125", "-0.13"),
        ("120", "120.00"),
    ],
)
def test_it_rounds_half_a_cent_up(amount, rounded):
    assert round_money(Decimal(amount)) == Decimal(rounded)


def test_it_returns_amounts_with_two_places():
    assert str(round_money(Decimal("7"))) == "7.00"


def test_it_computes_vat_on_the_sum_of_the_lines_not_per_line():
    # Per line: 21% of 10.07 is 2.1147, rounded 2.11; three lines make 6.33.
    # On the sum: 21% of 30.21 is 6.3441, rounded 6.34.
    lines = [Line(Decimal("10.07"))] * 3

    [row] = vat_breakdown(lines)

    assert row == {
        "rate": Decimal("21.00"),
        "taxable": Decimal("30.21"),
        "vat": Decimal("6.34"),
    }


def test_it_computes_vat_on_the_sum_of_small_lines():
    # Per line: 21% of 0.07 is 0.0147, rounded 0.01; three lines make 0.03.
    # On the sum: 21% of 0.21 is 0.0441, rounded 0.04.
    lines = [Line(Decimal("0.07"))] * 3

    net, vat, gross = invoice_totals(lines)

    assert (net, vat, gross) == (Decimal("0.21"), Decimal("0.04"), Decimal("0.25"))


def test_it_breaks_vat_down_per_rate_in_rate_order():
    lines = [
        Line(Decimal("100.00"), Decimal("21.00")),
        Line(Decimal("50.00"), Decimal("6.00")),
        Line(Decimal("20.00"), Decimal("21.00")),
        Line(Decimal("10.00"), Decimal("0.00")),
    ]

    breakdown = vat_breakdown(lines)

    assert [(row["rate"], row["taxable"], row["vat"]) for row in breakdown] == [
        (Decimal("0.00"), Decimal("10.00"), Decimal("0.00")),
        (Decimal("6.00"), Decimal("50.00"), Decimal("3.00")),
        (Decimal("21.00"), Decimal("120.00"), Decimal("25.20")),
    ]


def test_it_totals_an_invoice_as_the_sum_of_its_rates():
    lines = [
        Line(Decimal("120.00")),
        Line(Decimal("33.33"), Decimal("6.00")),
    ]

    net, vat, gross = invoice_totals(lines)

    # 6% of 33.33 is 1.9998, rounded 2.00; 21% of 120.00 is 25.20.
    assert net == Decimal("153.33")
    assert vat == Decimal("27.20")
    assert gross == Decimal("180.53")


def test_it_totals_no_lines_as_zero():
    assert invoice_totals([]) == (Decimal("0.00"), Decimal("0.00"), Decimal("0.00"))


cents = st.integers(min_value=0, max_value=10_000_000).map(
    lambda cents: Decimal(cents) / 100
)
rates = st.sampled_from([Decimal("0.00"), Decimal("6.00"), Decimal("21.00")])


@given(st.lists(st.builds(Line, cents, rates), max_size=20))
def test_it_keeps_totals_equal_to_the_sum_of_their_parts(lines):
    net, vat, gross = invoice_totals(lines)
    breakdown = vat_breakdown(lines)

    assert net == sum((Decimal(line.net_amount) for line in lines), Decimal(0))
    assert net == sum((row["taxable"] for row in breakdown), Decimal(0))
    assert vat == sum((row["vat"] for row in breakdown), Decimal(0))
    assert gross == net + vat
    for row in breakdown:
        assert row["vat"] == round_money(row["taxable"] * row["rate"] / 100)
        assert row["vat"].as_tuple().exponent == -2
