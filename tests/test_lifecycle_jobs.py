"""The scheduled jobs: renewal and its invoice, the end of cancelled accesses,
reminders before the last day to cancel, and TCD's weekly summary."""

import threading
from datetime import date
from decimal import Decimal
from io import StringIO

import pytest
from celery.schedules import crontab
from django.conf import settings
from django.core import mail
from django.core.management import CommandError, call_command
from django.db import IntegrityError, connection, transaction

from icms_portal.celery import app
from invoicing.models import Invoice, InvoiceKind, InvoiceLine
from notifications.models import OutgoingEmail, OutgoingEmailStatus
from notifications.services import outgoing_email_flush
from subscriptions import tasks
from subscriptions.jobs import (
    JOBS,
    EndCancelledSubscriptions,
    InvoiceRenewals,
    RenewSubscriptions,
    SendCancellationReminders,
    SendRenewalSummary,
)
from subscriptions.models import (
    CancellationChannel,
    ClosureReason,
    IcmsAccountStatus,
    SubscriptionPeriod,
    SubscriptionStatus,
)
from subscriptions.selectors import accounts_to_remove
from subscriptions.services import subscription_cancel, subscription_close

from . import factories
from .lifecycle_helpers import (
    additional_access,
    additional_accesses,
    nothing_written,
    on_day,
    reloaded,
)

pytestmark = pytest.mark.django_db

ACTIVATION = date(2026, 1, 1)
ANNIVERSARY = date(2027, 1, 1)
# 30 days before 16 November 2026, the last day to cancel the first period.
REMINDER_DAY = date(2026, 10, 17)


@pytest.fixture
def access(admin_a, cell):
    """An additional access of Stad Gent, activated on 1 January 2026."""
    return additional_access(
        admin=admin_a, cell=cell, activation_date=ACTIVATION, username="gent.officier1"
    )


@pytest.fixture
def amendment_2027(ibz_agreement):
    """IBZ's price rises from 120.00 to 130.00 on 1 January 2027."""
    return factories.PriceAmendmentFactory(
        agreement=ibz_agreement,
        reference="Addendum 2027",
        yearly_price=Decimal("130.00"),
        applies_from=date(2027, 1, 1),
    )


def renewals(as_of):
    """The nightly renewal task, run on ``as_of`` in Brussels."""
    with on_day(as_of, hour=4):
        return tasks.renewals_run(as_of.isoformat())


def periods_of(account):
    return list(
        SubscriptionPeriod.objects.filter(subscription__account=account).values_list(
            "index", "start", "end"
        )
    )


def invoiced_lines(account):
    return list(
        InvoiceLine.objects.filter(
            period__subscription__account=account, is_credit=False
        ).values_list("service_start", "service_end", "unit_price")
    )


def cancel(account, admin, day):
    with on_day(day):
        return subscription_cancel(
            subscription=account.subscription,
            channel=CancellationChannel.PORTAL,
            registered_by=admin,
        )


class TestRenewal:
    def test_it_renews_on_the_anniversary_at_the_price_in_force_that_day(
        self, access, amendment_2027
    ):
        assert renewals(date(2026, 12, 31)) == 0

        assert renewals(ANNIVERSARY) == 2

        assert periods_of(access) == [
            (0, date(2026, 1, 1), date(2026, 12, 31)),
            (1, date(2027, 1, 1), date(2027, 12, 31)),
        ]
        invoice = Invoice.objects.get()
        assert invoice.kind == InvoiceKind.INVOICE
        assert invoice.organisation == access.organisation
        assert invoice.issue_date == ANNIVERSARY
        assert invoice.issued_by is None
        [line] = invoice.lines.all()
        assert (line.service_start, line.service_end) == (
            ANNIVERSARY,
            date(2027, 12, 31),
        )
        assert line.unit_price == Decimal("130.00")
        assert line.amendment == amendment_2027
        assert invoice.net_total == Decimal("130.00")

    def test_it_renews_a_base_package_access_without_invoicing_it(self, organisation_a):
        account = factories.base_package_account(
            organisation=organisation_a, activation_date=ACTIVATION
        )

        renewals(ANNIVERSARY)

        assert periods_of(account) == [
            (0, date(2026, 1, 1), date(2026, 12, 31)),
            (1, date(2027, 1, 1), date(2027, 12, 31)),
        ]
        assert not Invoice.objects.exists()

    def test_it_starts_a_late_renewal_on_the_anniversary_at_that_days_price(
        self, access, ibz_agreement
    ):
        # The jobs were down from 1 to 3 January; the price changed meanwhile.
        factories.PriceAmendmentFactory(
            agreement=ibz_agreement,
            yearly_price=Decimal("135.00"),
            applies_from=date(2027, 1, 3),
        )

        renewals(date(2027, 1, 4))

        assert periods_of(access)[-1] == (1, date(2027, 1, 1), date(2027, 12, 31))
        assert invoiced_lines(access) == [
            (date(2027, 1, 1), date(2027, 12, 31), Decimal("120.00"))
        ]
        assert Invoice.objects.get().issue_date == date(2027, 1, 4)

    def test_it_catches_up_every_year_it_missed(self, access, amendment_2027):
        renewals(date(2029, 1, 2))

        assert periods_of(access) == [
            (0, date(2026, 1, 1), date(2026, 12, 31)),
            (1, date(2027, 1, 1), date(2027, 12, 31)),
            (2, date(2028, 1, 1), date(2028, 12, 31)),
            (3, date(2029, 1, 1), date(2029, 12, 31)),
        ]
        assert invoiced_lines(access) == [
            (date(2027, 1, 1), date(2027, 12, 31), Decimal("130.00")),
            (date(2028, 1, 1), date(2028, 12, 31), Decimal("130.00")),
            (date(2029, 1, 1), date(2029, 12, 31), Decimal("130.00")),
        ]

    def test_it_renews_from_the_activation_date_across_a_leap_day(self, admin_a, cell):
        account = additional_access(
            admin=admin_a,
            cell=cell,
            activation_date=date(2027, 3, 1),
            username="gent.officier2",
        )

        renewals(date(2028, 3, 1))

        assert periods_of(account) == [
            (0, date(2027, 3, 1), date(2028, 2, 29)),
            (1, date(2028, 3, 1), date(2029, 2, 28)),
        ]

    def test_it_does_nothing_the_second_time(self, access):
        first = renewals(ANNIVERSARY)
        with nothing_written():
            second = renewals(ANNIVERSARY)
            third = renewals(date(2027, 1, 2))

        assert (first, second, third) == (2, 0, 0)
        assert len(periods_of(access)) == 2
        assert Invoice.objects.count() == 1
        assert OutgoingEmail.objects.filter(template="invoice_issued").count() == 1

    def test_it_keeps_one_period_per_start_in_the_database(self, access):
        renewals(ANNIVERSARY)

        with pytest.raises(IntegrityError), transaction.atomic():
            SubscriptionPeriod.objects.create(
                subscription=access.subscription,
                index=7,
                start=ANNIVERSARY,
                end=date(2027, 12, 31),
            )

    def test_it_never_renews_a_closed_access(self, access, tcd):
        with on_day(date(2026, 6, 1)):
            subscription_close(
                subscription=access.subscription,
                closed_by=tcd,
                reason=ClosureReason.SECURITY_RISK,
            )

        assert renewals(ANNIVERSARY) == 0
        assert len(periods_of(access)) == 1
        assert not Invoice.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_it_renews_and_invoices_once_when_two_runs_overlap(admin_a, cell):
    access = additional_access(
        admin=admin_a, cell=cell, activation_date=ACTIVATION, username="gent.officier1"
    )
    # Both runs plan before either applies, so both try the same renewal.
    planned = threading.Barrier(2)

    class RacingRenewals(RenewSubscriptions):
        def plan(self, as_of):
            items = super().plan(as_of)
            planned.wait(timeout=10)
            return items

    class RacingInvoices(InvoiceRenewals):
        def plan(self, as_of):
            items = super().plan(as_of)
            planned.wait(timeout=10)
            return items

    results = []
    errors = []

    def run_in_own_connection():
        try:
            renewed = RacingRenewals().run(ANNIVERSARY)
            invoiced = RacingInvoices().run(ANNIVERSARY)
            results.append((renewed, invoiced))
        except Exception as error:
            errors.append(error)
        finally:
            connection.close()

    with on_day(ANNIVERSARY, hour=4):
        runs = [threading.Thread(target=run_in_own_connection) for _ in range(2)]
        for run in runs:
            run.start()
        for run in runs:
            run.join(timeout=30)

    assert errors == []
    # Either run may be the one that renews, and either the one that invoices.
    assert len(results) == 2
    assert [sum(done) for done in zip(*results, strict=True)] == [1, 1]
    assert len(periods_of(access)) == 2
    assert Invoice.objects.count() == 1
    assert invoiced_lines(access) == [
        (date(2027, 1, 1), date(2027, 12, 31), Decimal("120.00"))
    ]


class TestEndOfACancelledAccess:
    def test_it_ends_an_access_after_its_stop_date_and_never_renews_it(
        self, access, admin_a
    ):
        cancel(access, admin_a, date(2026, 11, 16))

        with on_day(date(2026, 12, 31), hour=4):
            assert EndCancelledSubscriptions().run(date(2026, 12, 31)) == 0
        assert reloaded(access).subscription.status == SubscriptionStatus.ACTIVE

        with on_day(ANNIVERSARY, hour=4):
            assert EndCancelledSubscriptions().run(ANNIVERSARY) == 1
        assert renewals(ANNIVERSARY) == 0

        account = reloaded(access)
        assert account.subscription.status == SubscriptionStatus.ENDED
        assert account.subscription.ended_on == date(2026, 12, 31)
        assert account.status == IcmsAccountStatus.TO_BE_REMOVED
        assert len(periods_of(access)) == 1
        assert not Invoice.objects.exists()
        assert list(accounts_to_remove()) == [access]

    def test_it_does_not_renew_a_cancelled_access_even_before_it_is_ended(
        self, access, admin_a
    ):
        cancel(access, admin_a, date(2026, 11, 16))

        assert renewals(date(2027, 1, 3)) == 0
        assert len(periods_of(access)) == 1

    def test_it_renews_a_late_cancelled_access_once_more(self, access, admin_a):
        cancel(access, admin_a, date(2026, 11, 17))

        renewals(ANNIVERSARY)
        assert periods_of(access)[-1] == (1, date(2027, 1, 1), date(2027, 12, 31))
        assert len(invoiced_lines(access)) == 1

        with on_day(date(2028, 1, 1), hour=4):
            assert EndCancelledSubscriptions().run(date(2028, 1, 1)) == 1
        assert renewals(date(2028, 1, 1)) == 0
        account = reloaded(access)
        assert account.subscription.ended_on == date(2027, 12, 31)
        assert len(periods_of(access)) == 2

    def test_it_ends_an_access_once(self, access, admin_a):
        cancel(access, admin_a, date(2026, 11, 16))
        with on_day(ANNIVERSARY, hour=4):
            EndCancelledSubscriptions().run(ANNIVERSARY)

        with on_day(date(2027, 1, 2), hour=4), nothing_written():
            assert EndCancelledSubscriptions().run(date(2027, 1, 2)) == 0


class TestCancellationReminders:
    @pytest.fixture
    def accesses(self, admin_a, admin_b, cell, amendment_2027):
        gent = additional_accesses(
            admin=admin_a,
            cell=cell,
            activation_date=ACTIVATION,
            usernames=["gent.officier1", "gent.officier2"],
        )
        liege = additional_accesses(
            admin=admin_b,
            cell=cell,
            activation_date=ACTIVATION,
            usernames=["liege.officier1"],
        )
        return gent + liege

    def remind(self, as_of):
        with on_day(as_of, hour=7):
            return SendCancellationReminders().run(as_of)

    def reminders(self):
        return list(
            OutgoingEmail.objects.filter(template="cancellation_reminder").order_by(
                "key"
            )
        )

    def test_it_reminds_each_organisation_thirty_days_before_the_last_day(
        self, accesses, admin_a, admin_b, organisation_a, organisation_b
    ):
        assert settings.CANCELLATION_REMINDER_DAYS == 30
        assert self.remind(date(2026, 10, 16)) == 0

        assert self.remind(REMINDER_DAY) == 2

        by_key = {email.key: email for email in self.reminders()}
        gent = by_key[f"cancellation_reminder:{organisation_a.pk}:2026-11-16"]
        liege = by_key[f"cancellation_reminder:{organisation_b.pk}:2026-11-16"]
        assert gent.to == [admin_a.email]
        assert gent.language == "nl"
        assert "16 november 2026" in gent.subject
        for line in [
            "- gent.officier1 (Jan Janssens 1): ",
            "- gent.officier2 (Jan Janssens 2): ",
            "01/01/2027",
            "€\u00a0130,00",
        ]:
            assert line in gent.body_text
        assert "liege" not in gent.body_text
        assert liege.to == [admin_b.email]
        assert "- liege.officier1 (Jan Janssens 1): " in liege.body_text
        assert "01/01/2027" in liege.body_text

    def test_it_catches_up_on_a_missed_reminder_until_the_last_day(self, accesses):
        assert self.remind(date(2026, 11, 16)) == 2

        assert len(self.reminders()) == 2

    def test_it_sends_no_reminder_after_the_last_day(self, accesses):
        assert self.remind(date(2026, 11, 17)) == 0

        assert self.reminders() == []

    def test_it_sends_a_reminder_once(self, accesses):
        self.remind(REMINDER_DAY)
        with nothing_written():
            assert self.remind(REMINDER_DAY) == 0
            assert self.remind(date(2026, 10, 18)) == 0

        assert len(self.reminders()) == 2

    def test_it_leaves_a_cancelled_access_out(self, accesses, admin_a, admin_b):
        cancel(accesses[0], admin_a, date(2026, 10, 1))
        cancel(accesses[2], admin_b, date(2026, 10, 1))

        assert self.remind(REMINDER_DAY) == 1

        [gent] = self.reminders()
        assert "gent.officier2" in gent.body_text
        assert "gent.officier1" not in gent.body_text

    def test_it_lists_a_base_package_access_without_a_price(self, organisation_a):
        factories.OrganisationAdminFactory(organisation=organisation_a)
        factories.base_package_account(
            organisation=organisation_a,
            activation_date=ACTIVATION,
            username="gent.basis1",
        )

        assert self.remind(REMINDER_DAY) == 1

        [reminder] = self.reminders()
        assert "- gent.basis1 (Els Wouters): " in reminder.body_text
        assert "€" not in reminder.body_text

    def test_it_keeps_a_reminder_pending_while_the_mail_server_is_down(
        self, accesses, settings, django_capture_on_commit_callbacks
    ):
        settings.EMAIL_BACKEND = "tests.lifecycle_helpers.FailingBackend"
        with django_capture_on_commit_callbacks(execute=True):
            assert self.remind(REMINDER_DAY) == 2

        assert mail.outbox == []
        assert {email.status for email in self.reminders()} == {
            OutgoingEmailStatus.PENDING
        }
        subjects = {email.subject for email in self.reminders()}
        assert all(
            "ConnectionRefusedError" in email.last_error for email in self.reminders()
        )

        settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
        # The flush also sends what the ordering procedure queued meanwhile.
        assert outgoing_email_flush() >= 2
        assert outgoing_email_flush() == 0

        reminders = self.reminders()
        assert {email.status for email in reminders} == {OutgoingEmailStatus.SENT}
        assert sorted(
            message.to for message in mail.outbox if message.subject in subjects
        ) == sorted(email.to for email in reminders)


class TestRenewalSummary:
    def summary(self, as_of):
        with on_day(as_of, hour=7):
            return SendRenewalSummary().run(as_of)

    def summaries(self):
        return list(
            OutgoingEmail.objects.filter(template="renewal_summary").order_by("key")
        )

    def test_it_sends_tcd_the_coming_renewals_once_a_week(self, access):
        assert self.summary(date(2026, 12, 7)) == 1  # a Monday
        assert self.summary(date(2026, 12, 9)) == 0
        assert self.summary(date(2026, 12, 13)) == 0
        assert self.summary(date(2026, 12, 14)) == 1

        first, second = self.summaries()
        assert (first.key, second.key) == (
            "renewal_summary:2026-W50",
            "renewal_summary:2026-W51",
        )
        assert first.to == [settings.TCD_MAILBOX]
        assert "01/01/2027 gent.officier1, Stad Gent" in first.body_text

    def test_it_counts_the_iso_week_across_new_year(self, access):
        assert self.summary(date(2026, 12, 28)) == 1
        assert self.summary(date(2027, 1, 3)) == 0

        [summary] = self.summaries()
        assert summary.key == "renewal_summary:2026-W53"

    def test_it_leaves_out_an_access_that_stops_before_its_renewal(
        self, access, admin_a
    ):
        cancel(access, admin_a, date(2026, 11, 16))

        self.summary(date(2026, 12, 7))

        [summary] = self.summaries()
        assert "gent.officier1" not in summary.body_text

    def test_it_lists_a_late_cancelled_access_that_renews_once_more(
        self, access, admin_a
    ):
        cancel(access, admin_a, date(2026, 11, 17))

        self.summary(date(2026, 12, 7))

        [summary] = self.summaries()
        assert "01/01/2027 gent.officier1, Stad Gent" in summary.body_text


class TestManagementCommands:
    def command(self, *arguments, day):
        out = StringIO()
        with on_day(day):
            call_command(*arguments, stdout=out)
        return out.getvalue()

    def test_it_prints_the_renewals_it_would_make_and_makes_none(self, access):
        with nothing_written():
            output = self.command(
                "renew_subscriptions",
                "--dry-run",
                "--date",
                "2027-01-01",
                day=ANNIVERSARY,
            )

        assert output.splitlines() == [
            "renew-subscriptions as of 2027-01-01: 1 to do",
            "  would renew gent.officier1 for 2027-01-01 – 2027-12-31",
            "invoice-renewals as of 2027-01-01: 0 to do",
        ]

    def test_it_prints_the_invoices_it_would_issue_and_issues_none(self, access):
        with on_day(ANNIVERSARY, hour=4):
            RenewSubscriptions().run(ANNIVERSARY)

        with nothing_written():
            output = self.command(
                "renew_subscriptions",
                "--dry-run",
                "--date",
                "2027-01-01",
                day=ANNIVERSARY,
            )

        assert "  would invoice 1 renewals to Stad Gent" in output.splitlines()

    def test_it_prints_the_accesses_it_would_end_and_ends_none(self, access, admin_a):
        cancel(access, admin_a, date(2026, 11, 16))

        with nothing_written():
            output = self.command(
                "end_subscriptions",
                "--dry-run",
                "--date",
                "2027-01-01",
                day=ANNIVERSARY,
            )

        assert output.splitlines() == [
            "end-cancelled-subscriptions as of 2027-01-01: 1 to do",
            "  would end gent.officier1, cancelled to stop after 2026-12-31",
        ]

    def test_it_prints_the_reminders_it_would_send_and_sends_none(self, access):
        with nothing_written():
            output = self.command(
                "send_cancellation_reminders",
                "--dry-run",
                "--date",
                "2026-10-17",
                day=REMINDER_DAY,
            )

        assert output.splitlines() == [
            "send-cancellation-reminders as of 2026-10-17: 1 to do",
            "  would remind Stad Gent of 1 accesses to cancel by 2026-11-16",
        ]

    def test_it_prints_the_summary_it_would_send_and_sends_none(self, access):
        with nothing_written():
            output = self.command(
                "send_renewal_summary",
                "--dry-run",
                "--date",
                "2026-12-07",
                day=date(2026, 12, 7),
            )

        assert output.splitlines() == [
            "send-renewal-summary as of 2026-12-07: 1 to do",
            "  would send TCD the renewals from 2026-12-07 to 2027-01-11",
        ]

    def test_it_runs_as_of_the_date_given(self, access):
        output = self.command(
            "renew_subscriptions", "--date", "2027-01-03", day=date(2027, 1, 3)
        )

        assert "renew-subscriptions as of 2027-01-03: 1 done" in output
        assert "invoice-renewals as of 2027-01-03: 1 done" in output
        assert periods_of(access)[-1] == (1, date(2027, 1, 1), date(2027, 12, 31))
        assert Invoice.objects.count() == 1

    def test_it_runs_as_of_today_in_brussels_without_a_date(self, access, admin_a):
        cancel(access, admin_a, date(2026, 11, 16))

        output = self.command("end_subscriptions", day=ANNIVERSARY)

        assert "end-cancelled-subscriptions as of 2027-01-01: 1 done" in output
        assert reloaded(access).subscription.status == SubscriptionStatus.ENDED

    @pytest.mark.parametrize(
        "name",
        [
            "end_subscriptions",
            "renew_subscriptions",
            "send_cancellation_reminders",
            "send_renewal_summary",
        ],
    )
    @pytest.mark.parametrize("day", ["2027-02-30", "01/01/2027", "tomorrow"])
    def test_it_refuses_a_date_it_cannot_read(self, access, name, day):
        with (
            nothing_written(),
            pytest.raises(CommandError, match="--date takes a day as YYYY-MM-DD"),
        ):
            self.command(name, "--date", day, day=ANNIVERSARY)


class TestBeatSchedule:
    def test_it_schedules_only_registered_tasks(self):
        app.loader.import_default_modules()

        for name, entry in settings.CELERY_BEAT_SCHEDULE.items():
            assert entry["task"] in app.tasks, name
            if entry["task"] == "subscriptions.tasks.job_run":
                assert entry["args"][0] in JOBS, name

    def test_it_schedules_every_lifecycle_job(self):
        scheduled = {
            entry["args"][0]
            for entry in settings.CELERY_BEAT_SCHEDULE.values()
            if entry["task"] == "subscriptions.tasks.job_run"
        }
        # The renewals task runs the renewal and the invoicing, in that order.
        assert scheduled | {"renew-subscriptions", "invoice-renewals"} == set(JOBS)
        assert "subscriptions.tasks.renewals_run" in {
            entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()
        }

    def test_it_keeps_every_job_out_of_the_hour_daylight_saving_skips_or_repeats(
        self,
    ):
        assert settings.CELERY_TIMEZONE == "Europe/Brussels"
        assert str(app.conf.timezone) == "Europe/Brussels"

        for name, entry in settings.CELERY_BEAT_SCHEDULE.items():
            schedule = entry["schedule"]
            assert isinstance(schedule, crontab), name
            assert 2 not in schedule.hour, name

    def test_it_ends_cancelled_accesses_before_it_renews(self):
        schedule = settings.CELERY_BEAT_SCHEDULE

        def first_run(entry):
            return (min(entry["schedule"].hour), min(entry["schedule"].minute))

        assert first_run(schedule["end-cancelled-subscriptions"]) < first_run(
            schedule["renewals"]
        )
