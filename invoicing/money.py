"""Money arithmetic: Decimal throughout, rounded in one place, half up."""

from collections import defaultdict
from decimal import ROUND_HALF_UP, Decimal

ZERO = Decimal("0.00")
CENT = Decimal("0.01")
STANDARD_VAT_RATE = Decimal("21.00")


def round_money(amount) -> Decimal:
    return Decimal(amount).quantize(CENT, rounding=ROUND_HALF_UP)


def vat_breakdown(lines):
    """Taxable amount and VAT per rate, in rate order.

    VAT is computed per rate on the sum of the lines' amounts, then rounded,
    never per line: three lines of 0.07 at 21% carry 0.04 VAT (21% of 0.21),
    not 3 x 0.01.
    """
    taxable = defaultdict(lambda: ZERO)
    for line in lines:
        taxable[Decimal(line.vat_rate)] += Decimal(line.net_amount)
    return [
        {
            "rate": rate,
            "taxable": round_money(amount),
            "vat": round_money(amount * rate / 100),
        }
        for rate, amount in sorted(taxable.items())
    ]


def invoice_totals(lines):
    """``(net, vat, gross)`` where gross is exactly net + vat."""
    breakdown = vat_breakdown(lines)
    net = sum((row["taxable"] for row in breakdown), ZERO)
    vat = sum((row["vat"] for row in breakdown), ZERO)
    return net, vat, net + vat
