"""Benchmarks of the portal's heavy paths, on a throw-away PostgreSQL database.

    make bench            # or: .venv/bin/python bench/run.py --organisations 200

Prints wall time, database queries and peak Python memory for: the period
arithmetic, a renewal job over every access, a whole invoice run (draft and
issue), and the CSV export of the resulting invoices. The figures in the
README come from this script.
"""

import argparse
import os
import sys
import time
import tracemalloc
from contextlib import contextmanager
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "icms_portal.settings.test")

import django  # noqa: E402

django.setup()

from django.db import connection, reset_queries  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402

RESULTS = []


@contextmanager
def measured(name, count, unit):
    tracemalloc.start()
    started = time.perf_counter()
    with CaptureQueriesContext(connection) as queries:
        yield
    elapsed = time.perf_counter() - started
    _current, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    RESULTS.append((name, count, unit, elapsed, len(queries), peak / 1024 / 1024))


def build(organisations, accesses_per_organisation, activation):
    """Organisations with additional accesses, their first period begun a year
    ago, written in bulk: the benchmark measures the jobs, not the set-up."""
    from accounts.models import Organisation, Role, User
    from invoicing.models import ContractingAuthority, FrameworkAgreement
    from subscriptions import periods
    from subscriptions.models import IcmsAccount, Subscription, SubscriptionPeriod

    authority = ContractingAuthority.objects.create(name="IBZ", short_name="IBZ")
    FrameworkAgreement.objects.create(
        contracting_authority=authority,
        reference="BENCH-1",
        yearly_price=Decimal("1250.00"),
        starts_on=date(2020, 1, 1),
    )
    rows = []
    for number in range(organisations):
        first_eight = f"0{2000000 + number:07d}"
        rows.append(
            Organisation(
                legal_name=f"Hulpverleningszone {number}",
                enterprise_number=first_eight + f"{97 - int(first_eight) % 97:02d}",
                street="Straat 1",
                postcode="1000",
                city="Brussel",
                billing_email=f"facturen{number}@example.be",
                contracting_authority=authority,
            )
        )
    Organisation.objects.bulk_create(rows)
    tcd = User.objects.create_user(
        "bench@tcd.example.com",
        "bench-password-long",
        first_name="B",
        last_name="T",
        role=Role.TCD,
    )
    accounts = [
        IcmsAccount(
            organisation=organisation,
            username=f"bench.{organisation.pk}.{index}",
            holder_first_name="Jan",
            holder_last_name=f"Peeters {index}",
            holder_email=f"jan{organisation.pk}.{index}@example.be",
        )
        for organisation in Organisation.objects.all()
        for index in range(accesses_per_organisation)
    ]
    IcmsAccount.objects.bulk_create(accounts)
    subscriptions = Subscription.objects.bulk_create(
        Subscription(account=account, activation_date=activation)
        for account in IcmsAccount.objects.all()
    )
    first = periods.period(activation, 0)
    SubscriptionPeriod.objects.bulk_create(
        SubscriptionPeriod(
            subscription=subscription, index=0, start=first.start, end=first.end
        )
        for subscription in subscriptions
    )
    return tcd


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--organisations", type=int, default=100)
    parser.add_argument("--accesses", type=int, default=10, help="per organisation")
    options = parser.parse_args()

    from django.test.utils import setup_test_environment

    setup_test_environment()
    old_name = connection.creation.create_test_db(verbosity=0, autoclobber=True)
    try:
        run(options)
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)

    print(
        f"{'benchmark':<34}{'items':>8}  {'seconds':>8}  {'per item':>10}  "
        f"{'queries':>8}  {'peak MiB':>8}"
    )
    for name, count, unit, elapsed, queries, peak in RESULTS:
        per_item = elapsed / count * 1000
        print(
            f"{name:<34}{count:>8}  {elapsed:>8.2f}  {per_item:>7.3f} ms  "
            f"{queries:>8}  {peak:>8.1f}   ({unit})"
        )


def run(options):
    from django.utils import timezone

    from invoicing import exports, runs
    from invoicing.documents import invoice_pdf_render
    from invoicing.models import Invoice
    from invoicing.selectors import invoice_lines_for_export
    from invoicing.ubl import invoice_ubl_build
    from notifications import services as notifications_services
    from subscriptions import periods
    from subscriptions.jobs import RenewSubscriptions

    today = timezone.localdate()
    activation = today - timedelta(days=370)
    total = options.organisations * options.accesses

    days = [date(2020, 1, 1) + timedelta(days=offset) for offset in range(3650)]
    with measured("period arithmetic (period_on)", len(days) * 20, "calls"):
        for start in days[:20]:
            for day in days:
                periods.period_on(start, day)

    tcd = build(options.organisations, options.accesses, activation)

    with measured("renewal job, plan and apply", total, "accesses"):
        RenewSubscriptions().run(today)

    with measured("invoice run: draft", options.organisations, "invoices"):
        run_row = runs.invoice_run_draft(as_of=today, created_by=tcd)
    # Issue without sending: the emails wait in the outbox, and their documents
    # are measured apart below.
    runs._enqueue = lambda run_pk: None
    notifications_services._enqueue = lambda email_pk: None
    runs.invoice_run_start(run=run_row, started_by=tcd)
    with measured("invoice run: issue", options.organisations, "invoices"):
        runs.invoice_run_process(run_pk=run_row.pk)

    sample = list(Invoice.objects.order_by("pk")[:5])
    with measured("invoice documents: PDF and UBL", len(sample), "invoices"):
        for invoice in sample:
            invoice_pdf_render(invoice)
            invoice_ubl_build(invoice)

    lines = invoice_lines_for_export()
    with measured("CSV export of invoice lines", lines.count(), "lines"):
        for _chunk in exports.csv_stream(
            exports.LINE_COLUMNS, exports.invoice_line_rows(lines)
        ):
            pass
    reset_queries()


if __name__ == "__main__":
    main()
