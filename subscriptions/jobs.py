"""The scheduled jobs of the subscription lifecycle.

Each job is a reconciliation: it asks what should exist by a given day and
does not, and makes it. A job that did not run for days catches up on its next
run; a job run twice, or twice at the same moment, does nothing the second
time. Each is split into ``plan`` (what is due, written nowhere) and ``apply``
(one item, in its own transaction), so a dry run prints the plan and a crash
half-way loses only the item it was on.
"""

import logging
from dataclasses import dataclass, field
from datetime import date, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max
from django.utils.translation import gettext as _

from accounts.selectors import organisation_admin_emails
from audit.services import Summary, audit_record
from invoicing.services import invoice_issue, periods_to_invoice, price_in_force
from notifications.models import OutgoingEmail
from notifications.services import email_queue

from . import duties, duty_selectors, periods
from .models import (
    IcmsAccountStatus,
    Subscription,
    SubscriptionPeriod,
    SubscriptionStatus,
)

logger = logging.getLogger(__name__)


@dataclass
class Item:
    """One thing a job will do, as a dry run prints it."""

    description: str
    key: tuple
    payload: dict = field(default_factory=dict)

    def __str__(self):
        return self.description


def _standing_cancellation(subscription):
    return next(
        (c for c in subscription.cancellations.all() if c.withdrawn_at is None), None
    )


def _active_subscriptions():
    return (
        Subscription.objects.filter(status=SubscriptionStatus.ACTIVE)
        .select_related("account__organisation__contracting_authority")
        .prefetch_related("cancellations")
    )


class Job:
    name = ""

    def plan(self, as_of: date) -> list[Item]:
        raise NotImplementedError

    def apply(self, item: Item, as_of: date) -> bool:
        """Do one item; False when someone else already did it."""
        raise NotImplementedError

    def run(self, as_of: date, progress=None) -> int:
        done = 0
        items = self.plan(as_of)
        for number, item in enumerate(items, start=1):
            try:
                done += bool(self.apply(item, as_of))
            except Exception:
                # One broken item must not stop the others; it is due again
                # on the next run.
                logger.exception("%s: %s failed", self.name, item.key)
            if progress:
                progress(number, len(items), item)
        logger.info(
            "%s as of %s: %s of %s items done", self.name, as_of, done, len(items)
        )
        return done


class EndCancelledSubscriptions(Job):
    """A cancelled access stops after its stop date; its ICMS account is then to
    be removed by the ICMS cell."""

    name = "end-cancelled-subscriptions"

    def plan(self, as_of):
        items = []
        due = _active_subscriptions().filter(
            cancellations__withdrawn_at__isnull=True,
            cancellations__stop_date__lt=as_of,
        )
        for subscription in due.distinct():
            cancellation = _standing_cancellation(subscription)
            items.append(
                Item(
                    _("end %(username)s, cancelled to stop after %(date)s")
                    % {
                        "username": subscription.account.username,
                        "date": cancellation.stop_date.isoformat(),
                    },
                    key=("end", subscription.pk),
                    payload={"subscription": subscription.pk},
                )
            )
        return items

    @transaction.atomic
    def apply(self, item, as_of):
        subscription = (
            Subscription.objects.select_for_update(of=("self",))
            .select_related("account__organisation")
            .get(pk=item.payload["subscription"])
        )
        cancellation = subscription.active_cancellation()
        if (
            subscription.status != SubscriptionStatus.ACTIVE
            or cancellation is None
            or cancellation.stop_date >= as_of
        ):
            return False
        subscription.status = SubscriptionStatus.ENDED
        subscription.ended_on = cancellation.stop_date
        subscription.save(update_fields=["status", "ended_on"])
        account = subscription.account
        account.status = IcmsAccountStatus.TO_BE_REMOVED
        account.save(update_fields=["status"])
        audit_record(
            action="subscription.ended",
            subject=subscription,
            organisation=account.organisation,
            summary=Summary(
                "Access %(username)s ended after %(date)s; its account is to be "
                "removed.",
                username=account.username,
                date=cancellation.stop_date,
            ),
        )
        return True


class RenewSubscriptions(Job):
    """On the first day of each new period an access renews, unless a
    cancellation or a closure ends it first. The new period always starts on
    the anniversary, whatever day the job runs."""

    name = "renew-subscriptions"

    def plan(self, as_of):
        items = []
        due = (
            _active_subscriptions()
            .filter(activation_date__lte=as_of)
            .annotate(last_end=Max("periods__end"))
            .filter(last_end__lt=as_of)
        )
        for subscription in due:
            cancellation = _standing_cancellation(subscription)
            for period in periods.periods_started_by(
                subscription.activation_date, as_of
            ):
                if period.end <= subscription.last_end:
                    continue
                if cancellation is not None and cancellation.stop_date < period.start:
                    break
                items.append(
                    Item(
                        _("renew %(username)s for %(start)s – %(end)s")
                        % {
                            "username": subscription.account.username,
                            "start": period.start.isoformat(),
                            "end": period.end.isoformat(),
                        },
                        key=("renew", subscription.pk, period.index),
                        payload={
                            "subscription": subscription.pk,
                            "index": period.index,
                        },
                    )
                )
        return items

    @transaction.atomic
    def apply(self, item, as_of):
        subscription = Subscription.objects.select_for_update(of=("self",)).get(
            pk=item.payload["subscription"]
        )
        period = periods.period(subscription.activation_date, item.payload["index"])
        cancellation = subscription.active_cancellation()
        if subscription.status != SubscriptionStatus.ACTIVE or (
            cancellation is not None and cancellation.stop_date < period.start
        ):
            return False
        if subscription.periods.filter(start=period.start).exists():
            return False
        SubscriptionPeriod.objects.create(
            subscription=subscription,
            index=period.index,
            start=period.start,
            end=period.end,
        )
        return True


class InvoiceRenewals(Job):
    """Invoice every begun renewal period, one invoice per organisation, at the
    price in force on each period's first day. Base-package accesses are never
    invoiced; first periods are invoiced by TCD when the order is delivered."""

    name = "invoice-renewals"

    def plan(self, as_of):
        pending = periods_to_invoice(as_of=as_of).filter(index__gte=1)
        by_organisation = {}
        for period in pending:
            organisation = period.subscription.account.organisation
            by_organisation.setdefault(organisation, []).append(period.pk)
        return [
            Item(
                _("invoice %(count)s renewals to %(organisation)s")
                % {"count": len(ids), "organisation": organisation.legal_name},
                key=("invoice", organisation.pk, tuple(ids)),
                payload={"organisation": organisation, "periods": ids},
            )
            for organisation, ids in by_organisation.items()
        ]

    def apply(self, item, as_of):
        try:
            invoice_issue(
                organisation=item.payload["organisation"],
                period_ids=item.payload["periods"],
                issued_by=None,
                as_of=as_of,
            )
        except ValidationError as error:
            # Invoiced meanwhile by another run, or no price in force: the
            # periods stay on TCD's list to invoice.
            logger.warning(
                "Renewal invoice for %s not issued: %s",
                item.payload["organisation"].pk,
                error.messages,
            )
            return False
        return True


class SendCancellationReminders(Job):
    """Remind each organisation's admins a number of days before a last day to
    cancel, listing the accesses concerned, their renewal dates and price."""

    name = "send-cancellation-reminders"

    def __init__(self, days_before=None):
        self.days_before = (
            settings.CANCELLATION_REMINDER_DAYS if days_before is None else days_before
        )

    def plan(self, as_of):
        window_end = as_of + timedelta(days=self.days_before)
        groups = {}
        for subscription in _active_subscriptions().filter(
            activation_date__lte=window_end
        ):
            if _standing_cancellation(subscription) is not None:
                continue
            current = periods.period_on(subscription.activation_date, as_of)
            deadline = current.last_day_to_cancel
            if not as_of <= deadline <= window_end:
                continue
            organisation = subscription.account.organisation
            groups.setdefault((organisation, deadline), []).append(subscription.pk)
        return [
            Item(
                _("remind %(organisation)s of %(count)s accesses to cancel by %(date)s")
                % {
                    "organisation": organisation.legal_name,
                    "count": len(ids),
                    "date": deadline.isoformat(),
                },
                key=("remind", organisation.pk, deadline),
                payload={
                    "organisation": organisation,
                    "deadline": deadline,
                    "subscriptions": ids,
                },
            )
            for (organisation, deadline), ids in sorted(
                groups.items(), key=lambda group: (group[0][1], group[0][0].pk)
            )
        ]

    @transaction.atomic
    def apply(self, item, as_of):
        organisation = item.payload["organisation"]
        deadline = item.payload["deadline"]
        key = f"cancellation_reminder:{organisation.pk}:{deadline.isoformat()}"
        recipients = organisation_admin_emails(organisation)
        if not recipients or OutgoingEmail.objects.filter(key=key).exists():
            return False
        rows = []
        for subscription in _active_subscriptions().filter(
            pk__in=item.payload["subscriptions"]
        ):
            if _standing_cancellation(subscription) is not None:
                # Cancelled since the plan was made: nothing to remind of.
                continue
            renewal = periods.period(
                subscription.activation_date,
                periods.period_on(subscription.activation_date, as_of).index + 1,
            )
            try:
                price = price_in_force(
                    contracting_authority=organisation.contracting_authority,
                    day=renewal.start,
                ).amount
            except ValidationError:
                price = None
            rows.append(
                {
                    "account": subscription.account,
                    "renewal": renewal.start,
                    "price": None if subscription.account.is_base_package else price,
                }
            )
        if not rows:
            return False
        email_queue(
            key=key,
            template="cancellation_reminder",
            to=recipients,
            language=organisation.language,
            context={"organisation": organisation, "deadline": deadline, "rows": rows},
        )
        return True


class SendRenewalSummary(Job):
    """A weekly list for TCD of the renewals of the coming weeks."""

    name = "send-renewal-summary"
    horizon = timedelta(days=35)

    def plan(self, as_of):
        year, week, _weekday = as_of.isocalendar()
        return [
            Item(
                _("send TCD the renewals from %(start)s to %(end)s")
                % {
                    "start": as_of.isoformat(),
                    "end": (as_of + self.horizon).isoformat(),
                },
                key=("summary", year, week),
                payload={"week": f"{year}-W{week:02d}"},
            )
        ]

    @transaction.atomic
    def apply(self, item, as_of):
        key = f"renewal_summary:{item.payload['week']}"
        if OutgoingEmail.objects.filter(key=key).exists():
            return False
        rows = []
        for subscription in _active_subscriptions().filter(activation_date__lte=as_of):
            renewal = periods.period(
                subscription.activation_date,
                periods.period_on(subscription.activation_date, as_of).index + 1,
            ).start
            # A late cancellation stops the access only after the next period,
            # so it still renews once.
            cancellation = _standing_cancellation(subscription)
            if cancellation is not None and cancellation.stop_date < renewal:
                continue
            if renewal <= as_of + self.horizon:
                rows.append({"account": subscription.account, "renewal": renewal})
        rows.sort(key=lambda row: (row["renewal"], row["account"].username))
        email_queue(
            key=key,
            template="renewal_summary",
            to=[settings.TCD_MAILBOX],
            language=settings.MAILBOX_LANGUAGE,
            context={"rows": rows, "as_of": as_of, "until": as_of + self.horizon},
        )
        return True


class SendPersonalDataReviewReminders(Job):
    """Remind each organisation's admins of its yearly review of personal data,
    once per due day, from 30 days before it (see ``duty_selectors``). A run
    missed in that window is caught up later, even once the day has passed."""

    name = "send-personal-data-review-reminders"

    def plan(self, as_of):
        return [
            Item(
                _("remind %(organisation)s to review personal data by %(date)s")
                % {"organisation": organisation.legal_name, "date": due_on.isoformat()},
                key=("review-reminder", organisation.pk, due_on),
                payload={"organisation": organisation, "due_on": due_on},
            )
            for organisation, due_on in duty_selectors.personal_data_reviews_due()
            if as_of >= duty_selectors.review_reminder_from(due_on)
        ]

    def apply(self, item, as_of):
        return duties.personal_data_review_remind(as_of=as_of, **item.payload)


class EscalateOverduePersonalDataReviews(Job):
    """Tell the ICMS cell's mailbox, once per due day, of each organisation
    whose review of personal data is overdue."""

    name = "escalate-overdue-personal-data-reviews"

    def plan(self, as_of):
        return [
            Item(
                _("tell the ICMS cell of the overdue review of %(organisation)s")
                % {"organisation": organisation.legal_name},
                key=("review-overdue", organisation.pk, due_on),
                payload={"organisation": organisation, "due_on": due_on},
            )
            for organisation, due_on in duty_selectors.personal_data_reviews_due()
            if as_of > due_on
        ]

    def apply(self, item, as_of):
        return duties.personal_data_review_escalate(as_of=as_of, **item.payload)


JOBS = {
    job.name: job
    for job in (
        EndCancelledSubscriptions,
        RenewSubscriptions,
        InvoiceRenewals,
        SendCancellationReminders,
        SendRenewalSummary,
        SendPersonalDataReviewReminders,
        EscalateOverduePersonalDataReviews,
    )
}
