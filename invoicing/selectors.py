from itertools import groupby

from accounts.permissions import scope_to_user

from .models import Invoice
from .services import periods_to_invoice, price_in_force


def invoices_visible_to(user):
    return scope_to_user(Invoice.objects.select_related("organisation"), user).order_by(
        "-issued_at", "-pk"
    )


def invoicing_queue(as_of=None):
    """Periods still to invoice, grouped by organisation, each with its price.

    Returns a list of ``(organisation, [(period, price_or_None), ...])``; a
    period without a price in force is shown so that TCD sees what blocks it.
    """
    groups = []
    periods = periods_to_invoice(as_of=as_of)
    for organisation, items in groupby(
        periods, key=lambda period: period.subscription.account.organisation
    ):
        rows = []
        for period in items:
            try:
                price = price_in_force(
                    contracting_authority=organisation.contracting_authority,
                    day=period.start,
                )
            except Exception:
                price = None
            rows.append((period, price))
        groups.append((organisation, rows))
    return groups
