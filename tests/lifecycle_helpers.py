"""The clock, accesses activated on a chosen day, and a mail server that is down,
for the tests of a subscription's life."""

from contextlib import contextmanager
from datetime import UTC, datetime, time, timedelta

import time_machine
from django.core.mail.backends.base import BaseEmailBackend

from audit.models import AuditEntry
from invoicing.models import Invoice, InvoiceLine
from notifications.models import OutgoingEmail
from subscriptions.models import (
    Cancellation,
    IcmsAccount,
    InboundEmail,
    Subscription,
    SubscriptionPeriod,
)
from subscriptions.periods import BRUSSELS
from subscriptions.services import icms_account_create

from .factories import submitted_order_form


def brussels(*moment):
    """An aware moment, given as the time on a clock in Brussels."""
    return datetime(*moment, tzinfo=BRUSSELS)


def utc(*moment):
    """An aware moment in UTC, as a mail provider stamps an arrival."""
    return datetime(*moment, tzinfo=UTC)


def clock_at(moment):
    """Stop the clock at an aware moment."""
    return time_machine.travel(moment, tick=False)


def on_day(day, hour=9):
    """Stop the clock on a Brussels day, at an hour of that day."""
    return clock_at(datetime.combine(day, time(hour), BRUSSELS))


def additional_accesses(*, admin, cell, activation_date, usernames):
    """Additional accesses of the admin's organisation, one per user name,
    active from ``activation_date``.

    They are ordered two weeks earlier, through the ordering procedure, since an
    access cannot start before it was ordered.
    """
    with on_day(activation_date - timedelta(days=14)):
        order_form = submitted_order_form(
            admin=admin, cell=cell, quantity=len(usernames)
        )
        return [
            icms_account_create(
                order_line=line,
                username=username,
                activation_date=activation_date,
                created_by=cell,
            )
            for line, username in zip(
                order_form.lines.order_by("pk"), usernames, strict=True
            )
        ]


def additional_access(*, admin, cell, activation_date, username):
    [account] = additional_accesses(
        admin=admin, cell=cell, activation_date=activation_date, usernames=[username]
    )
    return account


def reloaded(account):
    """The account and its subscription as the database has them now."""
    return IcmsAccount.objects.select_related("subscription").get(pk=account.pk)


WRITTEN_BY_THE_LIFECYCLE = [
    Subscription,
    SubscriptionPeriod,
    Cancellation,
    InboundEmail,
    Invoice,
    InvoiceLine,
    OutgoingEmail,
    AuditEntry,
]


def _rows():
    return {
        model.__name__: sorted(model.objects.values_list("pk", flat=True))
        for model in WRITTEN_BY_THE_LIFECYCLE
    } | {
        "statuses": sorted(
            Subscription.objects.values_list("pk", "status", "account__status")
        ),
        "withdrawn": sorted(
            Cancellation.objects.values_list("pk", "withdrawn_at", "stop_date")
        ),
    }


@contextmanager
def nothing_written(but=()):
    """Assert that the block adds, removes and changes no row of the lifecycle,
    apart from those of the models named in ``but``."""
    before = _rows()
    yield
    after = _rows()
    changed = sorted(
        name for name in after if after[name] != before[name] and name not in but
    )
    assert changed == [], f"The block wrote {', '.join(changed)}."


class FailingBackend(BaseEmailBackend):
    """A mail server that refuses every connection."""

    def send_messages(self, email_messages):
        raise ConnectionRefusedError("The mail server refused the connection.")
