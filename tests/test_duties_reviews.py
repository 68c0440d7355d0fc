"""The yearly review of personal data: when it is due, the review itself, and
the jobs that remind the organisation and tell the ICMS cell when it is late."""

from datetime import date, datetime, time
from io import StringIO

import lxml.html
import pytest
import time_machine
from celery.schedules import crontab
from django.conf import settings
from django.core import mail
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from audit.models import AuditEntry
from notifications.models import OutgoingEmail
from subscriptions.duties import personal_data_review_confirm
from subscriptions.duty_selectors import (
    accounts_to_offer_cancellation,
    personal_data_review_due_on,
    personal_data_reviews_due,
)
from subscriptions.jobs import (
    JOBS,
    EscalateOverduePersonalDataReviews,
    SendPersonalDataReviewReminders,
)
from subscriptions.models import (
    CancellationChannel,
    ClosureReason,
    IcmsAccount,
    PersonalDataReview,
    PersonalDataReviewLine,
)
from subscriptions.periods import BRUSSELS
from subscriptions.services import subscription_cancel, subscription_close

from . import factories

pytestmark = pytest.mark.django_db

# Stad Gent's first accounts are created on 5 January 2026: its first review
# is due on 5 January 2027, its admins are reminded from 6 December 2026 and the
# ICMS cell is told from 6 January 2027.
CREATED = date(2026, 1, 5)
DUE = date(2027, 1, 5)
REMINDER_FROM = date(2026, 12, 6)


def on_day(day, hour=9, minute=0):
    """Stop the clock on a Brussels day."""
    return time_machine.travel(
        datetime.combine(day, time(hour, minute), BRUSSELS), tick=False
    )


@pytest.fixture
def accounts(admin_a, cell):
    with on_day(CREATED):
        factories.created_accounts(admin=admin_a, cell=cell, quantity=2)
    return list(IcmsAccount.objects.filter(organisation=admin_a.organisation))


def review(admin, day=None, **answers):
    """Confirm the review of every active account of the admin's organisation;
    ``answers`` maps a user name to what differs from "needed, details right"."""
    lines = [
        {
            "account": account,
            "still_needed": True,
            "details_correct": True,
            "note": "",
            **answers.get(account.username, {}),
        }
        for account in IcmsAccount.objects.filter(
            organisation=admin.organisation, status="active"
        )
    ]
    with on_day(day or date(2026, 6, 10)):
        return personal_data_review_confirm(
            organisation=admin.organisation, confirmed_by=admin, lines=lines
        )


def run(job, day):
    with on_day(day, hour=8):
        return job().run(day)


def remind(day):
    return run(SendPersonalDataReviewReminders, day)


def escalate(day):
    return run(EscalateOverduePersonalDataReviews, day)


def reminders():
    return OutgoingEmail.objects.filter(template="personal_data_review_reminder")


def escalations():
    return OutgoingEmail.objects.filter(template="personal_data_review_overdue")


class TestDueDay:
    def test_it_is_due_a_year_after_the_first_account(self, accounts, admin_a):
        assert personal_data_review_due_on(admin_a.organisation) == DUE

    def test_it_counts_from_the_first_account_however_many_follow(
        self, accounts, admin_a, cell
    ):
        with on_day(date(2026, 8, 1)):
            factories.base_package_account(
                organisation=admin_a.organisation, activation_date=date(2026, 8, 1)
            )

        assert personal_data_review_due_on(admin_a.organisation) == DUE

    def test_it_is_due_a_year_after_the_last_review(self, accounts, admin_a):
        review(admin_a, day=date(2026, 6, 10))

        assert personal_data_review_due_on(admin_a.organisation) == date(2027, 6, 10)

    @pytest.mark.parametrize(
        ("hour", "minute", "due"),
        [(23, 30, date(2027, 6, 10)), (0, 30, date(2027, 6, 11))],
    )
    def test_it_counts_the_day_of_the_review_in_brussels(
        self, accounts, admin_a, hour, minute, due
    ):
        day = date(2026, 6, 10) if hour == 23 else date(2026, 6, 11)
        with on_day(day, hour=hour, minute=minute):
            personal_data_review_confirm(
                organisation=admin_a.organisation,
                confirmed_by=admin_a,
                lines=[
                    {"account": a, "still_needed": True, "details_correct": True}
                    for a in accounts
                ],
            )

        assert personal_data_review_due_on(admin_a.organisation) == due

    def test_it_is_due_only_for_organisations_with_an_active_account(
        self, accounts, admin_a, admin_b, tcd
    ):
        for account in accounts:
            subscription_close(
                subscription=account.subscription,
                closed_by=tcd,
                reason=ClosureReason.AUTHORITY_REQUEST,
                requested_by="IBZ",
            )

        assert personal_data_reviews_due() == []


class TestConfirming:
    def test_it_keeps_each_accounts_answer_with_the_holder_as_reviewed(
        self, accounts, admin_a
    ):
        first, second = accounts

        confirmed = review(
            admin_a,
            **{
                second.username: {
                    "still_needed": False,
                    "details_correct": False,
                    "note": "Verhuisd naar de brandweer; e-mailadres klopt niet.",
                }
            },
        )

        assert confirmed.confirmed_by == admin_a
        assert confirmed.due_on == DUE
        kept = {line.account: line for line in confirmed.lines.all()}
        assert set(kept) == {first, second}
        assert (kept[first].still_needed, kept[first].details_correct) == (True, True)
        assert (kept[second].still_needed, kept[second].details_correct) == (
            False,
            False,
        )
        assert kept[second].holder_email == second.holder_email
        assert kept[second].note.startswith("Verhuisd")

    def test_it_moves_the_next_review_a_year_on(self, accounts, admin_a):
        review(admin_a, day=date(2026, 12, 20))

        assert personal_data_review_due_on(admin_a.organisation) == date(2027, 12, 20)

    def test_it_writes_an_audit_entry(self, accounts, admin_a):
        first, second = accounts
        confirmed = review(admin_a, **{second.username: {"still_needed": False}})

        entry = AuditEntry.objects.get(action="personal_data_review.confirmed")
        assert (entry.actor, entry.object_id) == (admin_a, str(confirmed.pk))
        assert entry.data == {
            "accounts": 2,
            "not_needed": [second.username],
            "to_correct": [],
        }

    def test_it_refuses_a_review_that_leaves_out_an_account(self, accounts, admin_a):
        with pytest.raises(ValidationError) as refused:
            personal_data_review_confirm(
                organisation=admin_a.organisation,
                confirmed_by=admin_a,
                lines=[
                    {
                        "account": accounts[0],
                        "still_needed": True,
                        "details_correct": True,
                    }
                ],
            )

        assert refused.value.code == "accounts_changed"
        assert not PersonalDataReview.objects.exists()

    def test_it_asks_what_is_wrong_with_details_that_are_not_right(
        self, accounts, admin_a
    ):
        first = accounts[0]

        with pytest.raises(ValidationError) as refused:
            review(admin_a, **{first.username: {"details_correct": False}})

        assert list(refused.value.message_dict) == [f"account-{first.pk}-note"]
        assert not PersonalDataReview.objects.exists()
        assert not PersonalDataReviewLine.objects.exists()

    def test_it_leaves_an_ended_access_out_of_the_review(self, accounts, admin_a, tcd):
        first, second = accounts
        subscription_close(
            subscription=second.subscription, closed_by=tcd, reason=ClosureReason.BREACH
        )

        confirmed = review(admin_a)

        assert [line.account for line in confirmed.lines.all()] == [first]

    def test_it_refuses_an_admin_of_another_organisation(
        self, accounts, admin_a, admin_b
    ):
        with pytest.raises(ValidationError) as refused:
            personal_data_review_confirm(
                organisation=admin_a.organisation, confirmed_by=admin_b, lines=[]
            )

        assert refused.value.code == "wrong_role"

    @pytest.mark.parametrize("persona", ["cell", "tcd"])
    def test_it_refuses_staff(self, request, accounts, admin_a, persona):
        with pytest.raises(ValidationError) as refused:
            personal_data_review_confirm(
                organisation=admin_a.organisation,
                confirmed_by=request.getfixturevalue(persona),
                lines=[],
            )

        assert refused.value.code == "wrong_role"

    def test_it_offers_to_cancel_what_is_no_longer_needed_and_cancels_nothing(
        self, accounts, admin_a
    ):
        first, second = accounts

        review(admin_a, **{second.username: {"still_needed": False}})

        assert list(accounts_to_offer_cancellation(admin_a.organisation)) == [second]
        assert second.subscription.active_cancellation() is None
        subscription_cancel(
            subscription=second.subscription,
            channel=CancellationChannel.PORTAL,
            registered_by=admin_a,
        )
        assert list(accounts_to_offer_cancellation(admin_a.organisation)) == []

    def test_it_sends_wrong_details_to_the_cell_after_commit(
        self, accounts, admin_a, django_capture_on_commit_callbacks
    ):
        first = accounts[0]

        with django_capture_on_commit_callbacks(execute=True):
            review(
                admin_a,
                **{first.username: {"details_correct": False, "note": "Nieuwe naam."}},
            )

        email = OutgoingEmail.objects.get(template="personal_data_corrections")
        assert email.to == [settings.ICMS_CELL_MAILBOX]
        assert "Nieuwe naam." in email.body_text
        assert mail.outbox[-1].to == [settings.ICMS_CELL_MAILBOX]

    def test_it_sends_nothing_to_the_cell_when_every_detail_is_right(
        self, accounts, admin_a
    ):
        review(admin_a)

        assert not OutgoingEmail.objects.filter(
            template="personal_data_corrections"
        ).exists()


class TestReminders:
    def test_it_reminds_the_admins_thirty_days_before_the_due_day(
        self, accounts, admin_a, django_capture_on_commit_callbacks
    ):
        assert remind(date(2026, 12, 5)) == 0

        with django_capture_on_commit_callbacks(execute=True):
            assert remind(REMINDER_FROM) == 1

        email = reminders().get()
        assert (
            email.key
            == f"personal_data_review.reminder:{admin_a.organisation.pk}:2027-01-05"
        )
        assert (email.to, email.language) == ([admin_a.email], "nl")
        assert mail.outbox[-1].to == [admin_a.email]
        entry = AuditEntry.objects.get(action="personal_data_review.reminded")
        assert (entry.actor, entry.organisation) == (None, admin_a.organisation)

    def test_it_reminds_once_however_often_it_runs(self, accounts):
        assert remind(REMINDER_FROM) == 1
        assert remind(REMINDER_FROM) == 0
        assert remind(date(2026, 12, 7)) == 0
        assert remind(date(2027, 1, 20)) == 0

        assert reminders().count() == 1
        assert (
            AuditEntry.objects.filter(action="personal_data_review.reminded").count()
            == 1
        )

    def test_it_catches_up_on_reminders_it_missed(self, accounts):
        assert remind(date(2026, 12, 20)) == 1

        assert reminders().count() == 1

    def test_it_still_reminds_late_when_it_missed_the_whole_window(
        self, accounts, admin_a
    ):
        assert remind(date(2027, 1, 10)) == 1

        email = reminders().get()
        assert "2027-01-05" in email.key
        assert email.subject != ""

    def test_it_reminds_no_one_once_the_review_is_done(self, accounts, admin_a):
        review(admin_a, day=date(2026, 12, 1))

        assert remind(REMINDER_FROM) == 0
        assert remind(date(2027, 1, 10)) == 0
        assert not reminders().exists()

    def test_it_reminds_again_before_the_next_due_day(self, accounts, admin_a):
        remind(REMINDER_FROM)
        review(admin_a, day=date(2027, 1, 2))

        assert remind(date(2027, 12, 2)) == 0
        assert remind(date(2027, 12, 3)) == 1

        assert reminders().count() == 2
        assert reminders().filter(key__endswith=":2028-01-02").exists()

    def test_it_reminds_every_active_admin_in_the_organisations_language(
        self, admin_b, cell
    ):
        with on_day(CREATED):
            factories.created_accounts(admin=admin_b, cell=cell, quantity=1)
        colleague = factories.OrganisationAdminFactory(
            organisation=admin_b.organisation
        )
        factories.OrganisationAdminFactory(
            organisation=admin_b.organisation, is_active=False
        )

        remind(REMINDER_FROM)

        email = reminders().get()
        assert email.to == sorted([admin_b.email, colleague.email])
        assert email.language == "fr"


class TestEscalation:
    def test_it_tells_the_cell_the_day_after_the_due_day(
        self, accounts, admin_a, django_capture_on_commit_callbacks
    ):
        assert escalate(DUE) == 0

        with django_capture_on_commit_callbacks(execute=True):
            assert escalate(date(2027, 1, 6)) == 1

        email = escalations().get()
        assert email.to == [settings.ICMS_CELL_MAILBOX]
        assert email.language == settings.MAILBOX_LANGUAGE
        assert admin_a.organisation.legal_name in email.subject
        assert admin_a.email in email.body_text
        assert mail.outbox[-1].to == [settings.ICMS_CELL_MAILBOX]
        assert AuditEntry.objects.filter(
            action="personal_data_review.escalated"
        ).exists()

    def test_it_tells_the_cell_once_per_due_day(self, accounts):
        assert escalate(date(2027, 1, 6)) == 1
        assert escalate(date(2027, 1, 6)) == 0
        assert escalate(date(2027, 2, 6)) == 0

        assert escalations().count() == 1

    def test_it_catches_up_after_missed_days(self, accounts):
        assert escalate(date(2027, 3, 1)) == 1

        assert escalations().get().key.endswith(":2027-01-05")

    def test_it_tells_the_cell_nothing_once_the_review_is_done(self, accounts, admin_a):
        review(admin_a, day=date(2027, 1, 4))

        assert escalate(date(2027, 1, 6)) == 0
        assert not escalations().exists()

    def test_it_tells_the_cell_of_an_organisation_without_an_admin(self, admin_a, cell):
        with on_day(CREATED):
            factories.created_accounts(admin=admin_a, cell=cell, quantity=1)
        admin_a.is_active = False
        admin_a.save()

        assert remind(date(2027, 1, 6)) == 0
        assert escalate(date(2027, 1, 6)) == 1


class TestCommands:
    def test_it_prints_the_reminders_it_would_send_and_sends_none(self, accounts):
        out = StringIO()

        with on_day(REMINDER_FROM):
            call_command(
                "send_personal_data_review_reminders",
                "--date",
                "2026-12-06",
                "--dry-run",
                stdout=out,
            )

        assert "1 to do" in out.getvalue()
        assert "Stad Gent" in out.getvalue()
        assert not reminders().exists()

    def test_it_escalates_as_of_the_date_given(self, accounts):
        out = StringIO()

        with on_day(date(2027, 1, 10)):
            call_command(
                "escalate_overdue_personal_data_reviews",
                "--date",
                "2027-01-06",
                stdout=out,
            )

        assert "1 done" in out.getvalue()
        assert escalations().count() == 1

    def test_it_schedules_both_jobs_outside_the_daylight_saving_hour(self):
        for name in (
            SendPersonalDataReviewReminders.name,
            EscalateOverduePersonalDataReviews.name,
        ):
            [entry] = [
                entry
                for entry in settings.CELERY_BEAT_SCHEDULE.values()
                if entry.get("args") == [name]
            ]
            assert entry["task"] == "subscriptions.tasks.job_run"
            assert isinstance(entry["schedule"], crontab)
            assert 2 not in entry["schedule"].hour
            assert name in JOBS


# The page.


def page(response):
    return lxml.html.fromstring(response.content.decode())


def errors_beside(response, name):
    [block] = page(response).xpath(
        f'//div[contains(@class, "field")][.//*[@name="{name}"]]'
    )
    return [
        error.text_content().strip() for error in block.xpath('.//*[@class="error"]')
    ]


def answers(accounts, **values):
    data = {}
    for account in accounts:
        prefix = f"account-{account.pk}"
        data[f"{prefix}-still_needed"] = "yes"
        data[f"{prefix}-details_correct"] = "yes"
        data[f"{prefix}-note"] = ""
    data.update(values)
    return data


def test_it_shows_one_line_per_active_account_and_the_due_day(
    client, accounts, admin_a
):
    with on_day(date(2026, 12, 10)):
        client.force_login(admin_a)
        response = client.get(reverse("subscriptions:personal_data_review"))

    assert response.status_code == 200
    names = set(page(response).xpath('//input[@type="radio"]/@name'))
    assert names == {
        f"account-{account.pk}-{field}"
        for account in accounts
        for field in ("still_needed", "details_correct")
    }


def test_it_records_the_review_through_the_page(client, accounts, admin_a):
    with on_day(date(2026, 12, 10)):
        client.force_login(admin_a)
        response = client.post(
            reverse("subscriptions:personal_data_review"), answers(accounts)
        )

    assert response.status_code == 302
    confirmed = PersonalDataReview.objects.get()
    assert confirmed.lines.count() == 2
    entry = AuditEntry.objects.get(action="personal_data_review.confirmed")
    assert entry.client_address == "127.0.0.1"


def test_it_shows_a_missing_note_beside_the_account_and_saves_nothing(
    client, accounts, admin_a
):
    first = accounts[0]
    client.force_login(admin_a)

    response = client.post(
        reverse("subscriptions:personal_data_review"),
        answers(accounts, **{f"account-{first.pk}-details_correct": "no"}),
    )

    assert response.status_code == 200
    assert errors_beside(response, f"account-{first.pk}-note")
    assert not errors_beside(response, f"account-{accounts[1].pk}-note")
    assert not PersonalDataReview.objects.exists()


def test_it_shows_an_unanswered_question_beside_it(client, accounts, admin_a):
    first = accounts[0]
    client.force_login(admin_a)
    data = answers(accounts)
    del data[f"account-{first.pk}-still_needed"]

    response = client.post(reverse("subscriptions:personal_data_review"), data)

    assert response.status_code == 200
    assert errors_beside(response, f"account-{first.pk}-still_needed")
    assert not PersonalDataReview.objects.exists()


def test_it_offers_the_cancel_page_for_an_access_no_longer_needed(
    client, accounts, admin_a
):
    first, second = accounts
    client.force_login(admin_a)
    client.post(
        reverse("subscriptions:personal_data_review"),
        answers(accounts, **{f"account-{second.pk}-still_needed": "no"}),
    )

    response = client.get(reverse("subscriptions:personal_data_review"))

    links = page(response).xpath("//a/@href")
    assert reverse("subscriptions:access_cancel", args=[second.pk]) in links
    assert reverse("subscriptions:access_cancel", args=[first.pk]) not in links
    assert second.subscription.active_cancellation() is None


@pytest.mark.parametrize("persona", ["cell", "tcd"])
def test_it_keeps_staff_off_the_review_page(request, client, persona):
    client.force_login(request.getfixturevalue(persona))

    response = client.get(reverse("subscriptions:personal_data_review"))

    assert response.status_code == 403


def test_it_reads_the_review_page_in_as_many_queries_for_more_accounts(
    client, accounts, admin_a, cell
):
    client.force_login(admin_a)
    review(admin_a)
    url = reverse("subscriptions:personal_data_review")
    with CaptureQueriesContext(connection) as few:
        client.get(url)
    with on_day(date(2026, 7, 1)):
        for number in range(3):
            factories.base_package_account(
                organisation=admin_a.organisation,
                activation_date=date(2026, 7, 1),
                username=f"gent.basis{number}",
            )
    review(admin_a, day=date(2026, 7, 2))

    with CaptureQueriesContext(connection) as more:
        client.get(url)

    assert len(more) == len(few)
