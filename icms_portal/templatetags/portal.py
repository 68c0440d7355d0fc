"""Template filters every page and document uses."""

from decimal import Decimal

from django import template
from django.utils.formats import number_format

register = template.Library()


@register.filter
def money(amount):
    """``1234.5`` → ``€ 1,234.50`` in English, ``€ 1.234,50`` in Dutch and French."""
    if amount in (None, ""):
        return ""
    return "€\u00a0" + number_format(
        Decimal(amount), decimal_pos=2, force_grouping=True
    )
