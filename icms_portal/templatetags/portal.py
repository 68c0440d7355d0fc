"""Template filters every page and document uses."""

from decimal import Decimal

from django import template
from django.utils.formats import number_format
from stdnum import iban as stdnum_iban

register = template.Library()


@register.filter
def money(amount):
    """``1234.5`` → ``€ 1,234.50`` in English, ``€ 1.234,50`` in Dutch and French."""
    if amount in (None, ""):
        return ""
    return "€\u00a0" + number_format(
        Decimal(amount), decimal_pos=2, force_grouping=True
    )


@register.filter
def iban(number):
    """``BE71096123456769`` → ``BE71 0961 2345 6769``."""
    return stdnum_iban.format(number) if number else ""
