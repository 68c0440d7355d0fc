"""Cancellation, withdrawal, closure and removal of an access, through their
services."""

from datetime import date

import pytest
from django.conf import settings
from django.core import mail
from django.core.exceptions import ValidationError
from django.db import transaction

from audit.models import AuditEntry
from invoicing.models import Invoice
from notifications.models import OutgoingEmail, OutgoingEmailStatus
from subscriptions.jobs import EndCancelledSubscriptions, RenewSubscriptions
from subscriptions.models import (
    Cancellation,
    CancellationChannel,
    ClosureReason,
    IcmsAccountStatus,
    SubscriptionStatus,
)
from subscriptions.services import (
    cancellation_preview,
    cancellation_withdraw,
    icms_account_mark_removed,
    subscription_cancel,
    subscription_close,
)

from . import factories
from .lifecycle_helpers import (
    additional_access,
    brussels,
    clock_at,
    nothing_written,
    on_day,
    reloaded,
    utc,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def access(admin_a, cell):
    """An additional access of Stad Gent, activated on 1 January 2026."""
    return additional_access(
        admin=admin_a,
        cell=cell,
        activation_date=date(2026, 1, 1),
        username="gent.officier1",
    )


def cancel_in_portal(account, admin):
    return subscription_cancel(
        subscription=account.subscription,
        channel=CancellationChannel.PORTAL,
        registered_by=admin,
    )


class TestCancellationDeadline:
    def test_it_stops_an_access_cancelled_on_the_last_day_at_the_end_of_the_period(
        self, access, admin_a
    ):
        with on_day(date(2026, 11, 16)):
            cancellation = cancel_in_portal(access, admin_a)

        assert cancellation.stop_date == date(2026, 12, 31)
        assert cancellation.received_at == brussels(2026, 11, 16, 9)
        assert cancellation.channel == CancellationChannel.PORTAL
        assert cancellation.registered_by == admin_a

    def test_it_stops_an_access_cancelled_a_day_late_at_the_end_of_the_next_period(
        self, access, admin_a
    ):
        with on_day(date(2026, 11, 17)):
            cancellation = cancel_in_portal(access, admin_a)

        assert cancellation.stop_date == date(2027, 12, 31)

    @pytest.mark.parametrize(
        ("moment", "stop_date"),
        [
            # 23:59 in Brussels on the last day to cancel.
            (utc(2026, 11, 16, 22, 59), date(2026, 12, 31)),
            # Half a minute past midnight in Brussels, still 16 November in UTC.
            (utc(2026, 11, 16, 23, 0, 30), date(2027, 12, 31)),
        ],
    )
    def test_it_counts_the_last_day_to_cancel_until_midnight_in_brussels(
        self, access, admin_a, moment, stop_date
    ):
        with clock_at(moment):
            cancellation = cancel_in_portal(access, admin_a)

        assert cancellation.stop_date == stop_date
        assert cancellation.received_at == moment

    @pytest.mark.parametrize(
        ("day", "stop_date"),
        [
            (date(2028, 1, 15), date(2028, 2, 29)),
            (date(2028, 1, 16), date(2029, 2, 28)),
        ],
    )
    def test_it_counts_the_deadline_of_a_period_that_holds_a_leap_day(
        self, admin_a, cell, day, stop_date
    ):
        account = additional_access(
            admin=admin_a,
            cell=cell,
            activation_date=date(2027, 3, 1),
            username="gent.officier2",
        )

        with on_day(day):
            cancellation = cancel_in_portal(account, admin_a)

        assert cancellation.stop_date == stop_date

    @pytest.mark.parametrize(
        ("moment", "on_time"),
        [
            # Summer time starts on 29 March 2026: 02:00 becomes 03:00.
            (utc(2026, 3, 29, 0, 59), True),  # 01:59 winter time
            (utc(2026, 3, 29, 1, 0), True),  # 03:00 summer time
            (utc(2026, 3, 29, 21, 59, 59), True),  # 23:59:59 summer time
            (utc(2026, 3, 29, 22, 0, 30), False),  # 00:00:30 on 30 March
        ],
    )
    def test_it_dates_a_moment_in_brussels_on_the_day_summer_time_starts(
        self, admin_a, cell, moment, on_time
    ):
        # Its last day to cancel is 29 March 2026: the period ends on 13 May.
        account = additional_access(
            admin=admin_a,
            cell=cell,
            activation_date=date(2025, 5, 14),
            username="gent.officier3",
        )

        with clock_at(moment):
            cancellation = cancel_in_portal(account, admin_a)

        expected = date(2026, 5, 13) if on_time else date(2027, 5, 13)
        assert cancellation.stop_date == expected

    @pytest.mark.parametrize(
        ("moment", "on_time"),
        [
            # Summer time ends on 25 October 2026: 03:00 becomes 02:00 again.
            (utc(2026, 10, 25, 0, 30), True),  # 02:30 summer time
            (utc(2026, 10, 25, 1, 30), True),  # 02:30 winter time
            (utc(2026, 10, 25, 22, 59, 59), True),  # 23:59:59 winter time
            (utc(2026, 10, 25, 23, 0, 30), False),  # 00:00:30 on 26 October
        ],
    )
    def test_it_dates_a_moment_in_brussels_on_the_day_summer_time_ends(
        self, admin_a, cell, moment, on_time
    ):
        # Its last day to cancel is 25 October 2026: the period ends on 9 December.
        account = additional_access(
            admin=admin_a,
            cell=cell,
            activation_date=date(2025, 12, 10),
            username="gent.officier4",
        )

        with clock_at(moment):
            cancellation = cancel_in_portal(account, admin_a)

        expected = date(2026, 12, 9) if on_time else date(2027, 12, 9)
        assert cancellation.stop_date == expected

    def test_it_dates_midnight_in_summer_time_as_the_next_day(self, admin_a, cell):
        # 22:00 UTC on 24 October is midnight of the 25th in summer time: one
        # day past this access's last day to cancel.
        account = additional_access(
            admin=admin_a,
            cell=cell,
            activation_date=date(2025, 12, 9),
            username="gent.officier5",
        )

        with clock_at(utc(2026, 10, 24, 21, 59, 59)):
            assert cancellation_preview(subscription=account.subscription) == (
                date(2026, 12, 8),
                True,
            )
        with clock_at(utc(2026, 10, 24, 22, 0)):
            assert cancellation_preview(subscription=account.subscription) == (
                date(2027, 12, 8),
                False,
            )

    @pytest.mark.parametrize(
        ("day", "preview"),
        [
            (date(2026, 11, 16), (date(2026, 12, 31), True)),
            (date(2026, 11, 17), (date(2027, 12, 31), False)),
        ],
    )
    def test_it_previews_the_stop_date_it_then_registers(
        self, access, admin_a, day, preview
    ):
        with on_day(day):
            with nothing_written():
                preview_now = cancellation_preview(subscription=access.subscription)
            cancellation = cancel_in_portal(access, admin_a)

        assert preview_now == preview

        assert cancellation.stop_date == preview[0]


class TestWhoMayCancel:
    def test_it_lets_an_admin_of_the_organisation_cancel(self, access, admin_a):
        with on_day(date(2026, 6, 1)):
            cancel_in_portal(access, admin_a)

        assert access.subscription.cancellations.count() == 1
        entry = AuditEntry.objects.get(action="subscription.cancelled")
        assert entry.actor == admin_a
        assert entry.data["stop_date"] == "2026-12-31"
        assert entry.data["on_time"] is True

    @pytest.mark.parametrize("someone", ["admin_b", "cell", "tcd"])
    def test_it_refuses_a_portal_cancellation_by_anyone_else(
        self, access, someone, request
    ):
        user = request.getfixturevalue(someone)

        with (
            on_day(date(2026, 6, 1)),
            nothing_written(),
            pytest.raises(ValidationError) as refused,
        ):
            cancel_in_portal(access, user)

        assert refused.value.code == "wrong_role"

    def test_it_refuses_a_second_cancellation(self, access, admin_a):
        with on_day(date(2026, 6, 1)):
            cancel_in_portal(access, admin_a)
        with (
            on_day(date(2026, 6, 2)),
            nothing_written(),
            pytest.raises(ValidationError) as refused,
        ):
            cancel_in_portal(access, admin_a)

        assert refused.value.code == "already_cancelled"

    def test_it_accepts_a_new_cancellation_after_a_withdrawal(self, access, admin_a):
        with on_day(date(2026, 6, 1)):
            first = cancel_in_portal(access, admin_a)
            cancellation_withdraw(cancellation=first, withdrawn_by=admin_a)
        with on_day(date(2026, 11, 17)):
            second = cancel_in_portal(access, admin_a)

        assert second.stop_date == date(2027, 12, 31)
        assert access.subscription.active_cancellation() == second


class TestConfirmationEmails:
    def test_it_tells_the_admins_and_tcd_once_the_cancellation_commits(
        self, access, admin_a, organisation_a, django_capture_on_commit_callbacks
    ):
        colleague = factories.OrganisationAdminFactory(
            organisation=organisation_a, email="els.wouters@stad.gent.example.be"
        )

        with on_day(date(2026, 11, 16)):
            with django_capture_on_commit_callbacks() as callbacks:
                cancellation = cancel_in_portal(access, admin_a)
            # Written with the cancellation, sent only once it commits.
            assert mail.outbox == []
            assert (
                OutgoingEmail.objects.filter(
                    template="cancellation_registered",
                    status=OutgoingEmailStatus.PENDING,
                ).count()
                == 2
            )
            for callback in callbacks:
                callback()

        admins = OutgoingEmail.objects.get(
            key=f"cancellation.registered:{cancellation.pk}"
        )
        tcd = OutgoingEmail.objects.get(
            key=f"cancellation.registered.tcd:{cancellation.pk}"
        )
        assert admins.to == sorted([admin_a.email, colleague.email])
        assert admins.language == "nl"
        assert tcd.to == [settings.TCD_MAILBOX]
        assert {admins.status, tcd.status} == {OutgoingEmailStatus.SENT}
        assert sorted(message.to for message in mail.outbox) == sorted(
            [admins.to, tcd.to]
        )
        assert "gent.officier1" in mail.outbox[0].subject

    def test_it_sends_nothing_when_the_cancellation_rolls_back(
        self, access, admin_a, django_capture_on_commit_callbacks
    ):
        class Abandoned(Exception):
            pass

        with (
            on_day(date(2026, 11, 16)),
            django_capture_on_commit_callbacks(execute=True),
            pytest.raises(Abandoned),
            transaction.atomic(),
        ):
            cancel_in_portal(access, admin_a)
            raise Abandoned

        assert not Cancellation.objects.exists()
        assert not OutgoingEmail.objects.filter(
            template="cancellation_registered"
        ).exists()
        assert mail.outbox == []


class TestWithdrawal:
    def test_it_renews_as_usual_after_a_withdrawal(self, access, admin_a):
        with on_day(date(2026, 11, 10)):
            cancellation = cancel_in_portal(access, admin_a)
        with on_day(date(2026, 12, 20)):
            cancellation_withdraw(cancellation=cancellation, withdrawn_by=admin_a)

        with on_day(date(2027, 1, 1), hour=4):
            ended = EndCancelledSubscriptions().run(date(2027, 1, 1))
            renewed = RenewSubscriptions().run(date(2027, 1, 1))

        assert (ended, renewed) == (0, 1)
        account = reloaded(access)
        assert account.subscription.status == SubscriptionStatus.ACTIVE
        assert account.status == IcmsAccountStatus.ACTIVE
        assert list(account.subscription.periods.values_list("start", "end")) == [
            (date(2026, 1, 1), date(2026, 12, 31)),
            (date(2027, 1, 1), date(2027, 12, 31)),
        ]
        cancellation.refresh_from_db()
        assert cancellation.withdrawn_at == brussels(2026, 12, 20, 9)
        assert cancellation.withdrawn_by == admin_a

    def test_it_lets_tcd_withdraw_a_cancellation(self, access, admin_a, tcd):
        with on_day(date(2026, 11, 10)):
            cancellation = cancel_in_portal(access, admin_a)
            cancellation_withdraw(cancellation=cancellation, withdrawn_by=tcd)

        assert access.subscription.active_cancellation() is None

    def test_it_lets_a_cancellation_be_withdrawn_on_the_stop_date(
        self, access, admin_a
    ):
        with on_day(date(2026, 11, 10)):
            cancellation = cancel_in_portal(access, admin_a)

        with clock_at(brussels(2026, 12, 31, 23, 59)):
            cancellation_withdraw(cancellation=cancellation, withdrawn_by=admin_a)

        assert access.subscription.active_cancellation() is None

    def test_it_refuses_a_withdrawal_after_the_access_stopped(self, access, admin_a):
        with on_day(date(2026, 11, 10)):
            cancellation = cancel_in_portal(access, admin_a)
        with on_day(date(2027, 1, 1), hour=4):
            EndCancelledSubscriptions().run(date(2027, 1, 1))

        with (
            on_day(date(2027, 1, 1), hour=10),
            nothing_written(),
            pytest.raises(ValidationError) as refused,
        ):
            cancellation_withdraw(cancellation=cancellation, withdrawn_by=admin_a)

        assert refused.value.code == "too_late"

    def test_it_refuses_a_withdrawal_after_the_stop_date_before_the_job_ran(
        self, access, admin_a
    ):
        with on_day(date(2026, 11, 10)):
            cancellation = cancel_in_portal(access, admin_a)

        with (
            clock_at(brussels(2027, 1, 1, 0, 0, 30)),
            nothing_written(),
            pytest.raises(ValidationError) as refused,
        ):
            cancellation_withdraw(cancellation=cancellation, withdrawn_by=admin_a)

        assert refused.value.code == "too_late"

    @pytest.mark.parametrize("someone", ["admin_b", "cell"])
    def test_it_refuses_a_withdrawal_by_anyone_else(
        self, access, admin_a, someone, request
    ):
        user = request.getfixturevalue(someone)
        with on_day(date(2026, 11, 10)):
            cancellation = cancel_in_portal(access, admin_a)

        with (
            on_day(date(2026, 11, 11)),
            nothing_written(),
            pytest.raises(ValidationError) as refused,
        ):
            cancellation_withdraw(cancellation=cancellation, withdrawn_by=user)

        assert refused.value.code == "wrong_role"


class TestClosureByTcd:
    @pytest.mark.parametrize(
        ("reason", "requested_by"),
        [
            (ClosureReason.BREACH, ""),
            (ClosureReason.SECURITY_RISK, ""),
            (ClosureReason.AUTHORITY_REQUEST, "FOD Binnenlandse Zaken, ICMS-cel"),
        ],
    )
    def test_it_closes_an_access_that_day_without_refund(
        self,
        access,
        admin_a,
        tcd,
        reason,
        requested_by,
        django_capture_on_commit_callbacks,
    ):
        invoices_before = Invoice.objects.count()

        with (
            clock_at(brussels(2026, 5, 12, 14, 30)),
            django_capture_on_commit_callbacks(execute=True),
        ):
            subscription_close(
                subscription=access.subscription,
                closed_by=tcd,
                reason=reason,
                requested_by=requested_by,
                note="  Gedeeld wachtwoord vastgesteld.  ",
            )

        account = reloaded(access)
        subscription = account.subscription
        assert subscription.status == SubscriptionStatus.CLOSED
        assert subscription.ended_on == date(2026, 5, 12)
        assert subscription.closed_at == brussels(2026, 5, 12, 14, 30)
        assert subscription.closed_by == tcd
        assert subscription.closure_reason == reason
        assert subscription.closure_requested_by == requested_by
        assert subscription.closure_note == "Gedeeld wachtwoord vastgesteld."
        assert account.status == IcmsAccountStatus.CLOSED
        # Neither a credit note for the rest of the period nor anything else.
        assert Invoice.objects.count() == invoices_before
        assert sorted(message.to for message in mail.outbox) == [
            [admin_a.email],
            [settings.ICMS_CELL_MAILBOX],
        ]
        entry = AuditEntry.objects.get(action="subscription.closed")
        assert (entry.actor, entry.data) == (
            tcd,
            {"reason": reason, "requested_by": requested_by},
        )

    def test_it_asks_who_requested_a_closure_for_an_authority(self, access, tcd):
        with (
            on_day(date(2026, 5, 12)),
            nothing_written(),
            pytest.raises(ValidationError) as refused,
        ):
            subscription_close(
                subscription=access.subscription,
                closed_by=tcd,
                reason=ClosureReason.AUTHORITY_REQUEST,
                requested_by="   ",
            )

        assert set(refused.value.message_dict) == {"requested_by"}

    def test_it_refuses_a_closure_without_a_known_reason(self, access, tcd):
        with (
            on_day(date(2026, 5, 12)),
            nothing_written(),
            pytest.raises(ValidationError) as refused,
        ):
            subscription_close(
                subscription=access.subscription, closed_by=tcd, reason="whim"
            )

        assert set(refused.value.message_dict) == {"reason"}

    @pytest.mark.parametrize("someone", ["admin_a", "cell"])
    def test_it_lets_only_tcd_close_an_access(self, access, someone, request):
        user = request.getfixturevalue(someone)

        with (
            on_day(date(2026, 5, 12)),
            nothing_written(),
            pytest.raises(ValidationError) as refused,
        ):
            subscription_close(
                subscription=access.subscription,
                closed_by=user,
                reason=ClosureReason.BREACH,
            )

        assert refused.value.code == "wrong_role"

    def test_it_refuses_to_close_an_access_twice(self, access, tcd):
        with on_day(date(2026, 5, 12)):
            subscription_close(
                subscription=access.subscription,
                closed_by=tcd,
                reason=ClosureReason.BREACH,
            )

        with (
            on_day(date(2026, 5, 13)),
            nothing_written(),
            pytest.raises(ValidationError) as refused,
        ):
            subscription_close(
                subscription=access.subscription,
                closed_by=tcd,
                reason=ClosureReason.SECURITY_RISK,
            )

        assert refused.value.code == "not_active"

    def test_it_refuses_a_cancellation_of_a_closed_access(self, access, admin_a, tcd):
        with on_day(date(2026, 5, 12)):
            subscription_close(
                subscription=access.subscription,
                closed_by=tcd,
                reason=ClosureReason.BREACH,
            )

        with (
            on_day(date(2026, 5, 13)),
            nothing_written(),
            pytest.raises(ValidationError) as refused,
        ):
            cancel_in_portal(access, admin_a)

        assert refused.value.code == "not_active"


class TestRemovalByTheCell:
    def test_it_marks_removed_the_account_of_an_ended_access(
        self, access, admin_a, cell
    ):
        with on_day(date(2026, 11, 10)):
            cancel_in_portal(access, admin_a)
        with on_day(date(2027, 1, 1), hour=4):
            EndCancelledSubscriptions().run(date(2027, 1, 1))
        assert reloaded(access).status == IcmsAccountStatus.TO_BE_REMOVED

        with on_day(date(2027, 1, 4)):
            icms_account_mark_removed(account=access, removed_by=cell)

        assert reloaded(access).status == IcmsAccountStatus.REMOVED
        assert AuditEntry.objects.get(action="icms_account.removed").actor == cell

    def test_it_marks_removed_the_account_of_a_closed_access(self, access, cell, tcd):
        with on_day(date(2026, 5, 12)):
            subscription_close(
                subscription=access.subscription,
                closed_by=tcd,
                reason=ClosureReason.SECURITY_RISK,
            )
            icms_account_mark_removed(account=access, removed_by=cell)

        assert reloaded(access).status == IcmsAccountStatus.REMOVED

    def test_it_refuses_to_remove_the_account_of_a_running_access(self, access, cell):
        with (
            on_day(date(2026, 5, 12)),
            nothing_written(),
            pytest.raises(ValidationError) as refused,
        ):
            icms_account_mark_removed(account=access, removed_by=cell)

        assert refused.value.code == "still_active"
        assert reloaded(access).status == IcmsAccountStatus.ACTIVE

    def test_it_lets_only_the_cell_remove_an_account(self, access, tcd):
        with on_day(date(2026, 5, 12)):
            subscription_close(
                subscription=access.subscription,
                closed_by=tcd,
                reason=ClosureReason.BREACH,
            )

        with pytest.raises(ValidationError) as refused:
            icms_account_mark_removed(account=access, removed_by=tcd)

        assert refused.value.code == "wrong_role"
        assert reloaded(access).status == IcmsAccountStatus.CLOSED
