"""Invoice runs: TCD invoices everything due up to a day in one go.

A run is first a draft, one item per organisation with its periods and
totals, for TCD to review. Started, it issues the items one at a time in the
background; each item is issued in its own transaction together with its
status, so a run interrupted by a crash resumes where it stopped and never
issues an item twice. The documents and emails follow each invoice through the
outbox.
"""

import logging

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Role
from accounts.permissions import role_require
from audit.services import PluralSummary, Summary, audit_record

from .models import (
    InvoiceLine,
    InvoiceRun,
    InvoiceRunItem,
    InvoiceRunItemStatus,
    InvoiceRunStatus,
)
from .money import STANDARD_VAT_RATE, invoice_totals, round_money
from .services import PriceList, invoice_issue, periods_to_invoice

logger = logging.getLogger(__name__)


@transaction.atomic
def invoice_run_draft(*, as_of, created_by, client_address=None):
    """Prepare a run over every period due up to ``as_of``, without issuing."""
    role_require(created_by, Role.TCD)
    if as_of > timezone.localdate():
        raise ValidationError(
            {"as_of": _("A run invoices what is due; choose today or an earlier day.")}
        )
    run = InvoiceRun.objects.create(as_of=as_of, created_by=created_by)
    by_organisation = {}
    for period in periods_to_invoice(as_of=as_of):
        organisation = period.subscription.account.organisation
        by_organisation.setdefault(organisation, []).append(period)
    items = []
    price_lists = {}
    for organisation, periods in by_organisation.items():
        problem, lines = "", []
        authority = organisation.contracting_authority
        if authority.pk not in price_lists:
            price_lists[authority.pk] = PriceList(authority)
        for period in periods:
            try:
                price = price_lists[authority.pk].price_on(period.start)
            except ValidationError as error:
                problem = " ".join(error.messages)
                break
            lines.append(
                InvoiceLine(
                    net_amount=round_money(price.amount), vat_rate=STANDARD_VAT_RATE
                )
            )
        net, vat, gross = invoice_totals(lines)
        items.append(
            InvoiceRunItem(
                run=run,
                organisation=organisation,
                period_ids=[period.pk for period in periods],
                net_total=net,
                vat_total=vat,
                gross_total=gross,
                status=InvoiceRunItemStatus.SKIPPED
                if problem
                else InvoiceRunItemStatus.PENDING,
                problem=problem,
            )
        )
    InvoiceRunItem.objects.bulk_create(items)
    audit_record(
        action="invoice_run.drafted",
        actor=created_by,
        subject=run,
        summary=PluralSummary(
            "Invoice run up to %(date)s drafted: %(count)s invoice.",
            "Invoice run up to %(date)s drafted: %(count)s invoices.",
            "count",
            date=as_of,
            count=len(items),
        ),
        client_address=client_address,
    )
    return run


@transaction.atomic
def invoice_run_start(*, run, started_by, client_address=None):
    """Issue a reviewed draft in the background."""
    role_require(started_by, Role.TCD)
    claimed = InvoiceRun.objects.filter(
        pk=run.pk, status=InvoiceRunStatus.DRAFT
    ).update(
        status=InvoiceRunStatus.ISSUING,
        started_by=started_by,
        started_at=timezone.now(),
    )
    if not claimed:
        raise ValidationError(_("This run was already started or discarded."))
    audit_record(
        action="invoice_run.started",
        actor=started_by,
        subject=run,
        summary=Summary("Invoice run up to %(date)s started.", date=run.as_of),
        client_address=client_address,
    )
    transaction.on_commit(lambda: _enqueue(run.pk))
    return run


def _enqueue(run_pk):
    from .tasks import invoice_run_process

    try:
        invoice_run_process.delay(run_pk)
    except Exception:
        # The broker is away; the periodic resume picks the run up.
        logger.warning("Could not queue invoice run %s", run_pk, exc_info=True)


@transaction.atomic
def invoice_run_discard(*, run, discarded_by):
    role_require(discarded_by, Role.TCD)
    if not InvoiceRun.objects.filter(pk=run.pk, status=InvoiceRunStatus.DRAFT).update(
        status=InvoiceRunStatus.DISCARDED, finished_at=timezone.now()
    ):
        raise ValidationError(_("Only a draft can be discarded."))
    audit_record(action="invoice_run.discarded", actor=discarded_by, subject=run)


@transaction.atomic
def invoice_run_item_issue(*, item_pk):
    """Issue one item of a started run. False when it is not (or no longer) due."""
    item = (
        InvoiceRunItem.objects.select_for_update(skip_locked=True, of=("self",))
        .filter(pk=item_pk, status=InvoiceRunItemStatus.PENDING)
        .select_related("run__started_by", "organisation")
        .first()
    )
    if item is None or item.run.status != InvoiceRunStatus.ISSUING:
        return False
    try:
        with transaction.atomic():
            invoice = invoice_issue(
                organisation=item.organisation,
                period_ids=item.period_ids,
                issued_by=item.run.started_by,
            )
    except ValidationError as error:
        item.status = InvoiceRunItemStatus.SKIPPED
        item.problem = " ".join(error.messages)
        item.save(update_fields=["status", "problem"])
        return False
    item.status = InvoiceRunItemStatus.ISSUED
    item.invoice = invoice
    item.save(update_fields=["status", "invoice"])
    return True


def invoice_run_process(*, run_pk):
    """Issue every pending item of a run, then mark it done. Safe to call again."""
    pending = InvoiceRunItem.objects.filter(
        run_id=run_pk, status=InvoiceRunItemStatus.PENDING
    ).values_list("pk", flat=True)
    issued = 0
    for item_pk in list(pending):
        issued += invoice_run_item_issue(item_pk=item_pk)
    if not InvoiceRunItem.objects.filter(
        run_id=run_pk, status=InvoiceRunItemStatus.PENDING
    ).exists():
        InvoiceRun.objects.filter(pk=run_pk, status=InvoiceRunStatus.ISSUING).update(
            status=InvoiceRunStatus.DONE, finished_at=timezone.now()
        )
    logger.info("Invoice run %s: %s invoices issued in this pass", run_pk, issued)
    return issued


def invoice_runs_resume():
    """Finish every started run, for example after a worker crashed."""
    runs = InvoiceRun.objects.filter(status=InvoiceRunStatus.ISSUING).values_list(
        "pk", flat=True
    )
    return sum(invoice_run_process(run_pk=run_pk) for run_pk in list(runs))


def invoice_run_progress(run):
    """Counts a person needs to follow a run: items by status, emails sent."""
    from notifications.models import OutgoingEmail, OutgoingEmailStatus

    items = list(run.items.select_related("organisation", "invoice"))
    issued = [item for item in items if item.status == InvoiceRunItemStatus.ISSUED]
    keys = [f"invoice.issued:{item.invoice_id}" for item in issued]
    emailed = OutgoingEmail.objects.filter(
        key__in=keys, status=OutgoingEmailStatus.SENT
    ).count()
    return {
        "items": items,
        "total": len(items),
        "pending": sum(item.status == InvoiceRunItemStatus.PENDING for item in items),
        "issued": len(issued),
        "skipped": sum(item.status == InvoiceRunItemStatus.SKIPPED for item in items),
        "emailed": emailed,
    }
