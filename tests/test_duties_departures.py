"""Someone leaves: the holder of an ICMS account, or a portal user."""

from datetime import date, datetime, time

import lxml.html
import pytest
import time_machine
from django.conf import settings
from django.core import mail
from django.core.exceptions import ValidationError
from django.db import transaction
from django.urls import reverse

from accounts.models import User
from accounts.services import portal_user_deactivate
from audit.models import AuditEntry
from notifications.models import OutgoingEmail
from subscriptions.duties import holder_departure_record, password_change_mark_done
from subscriptions.duty_selectors import password_changes_pending
from subscriptions.models import (
    Cancellation,
    CancellationChannel,
    ClosureReason,
    DepartureOutcome,
    HolderDeparture,
    IcmsAccount,
    PasswordChange,
    PasswordChangeStatus,
)
from subscriptions.periods import BRUSSELS
from subscriptions.services import subscription_cancel, subscription_close

from . import factories

pytestmark = pytest.mark.django_db

# The access runs from 5 January 2026 to 4 January 2027; the last day to cancel
# that period is 20 November 2026.
ACTIVATION = date(2026, 1, 5)
LEFT_ON = date(2026, 3, 31)
RECORDED_ON = date(2026, 4, 2)

SUCCESSOR = {
    "successor_first_name": "Lotte",
    "successor_last_name": "Desmet",
    "successor_email": "lotte.desmet@stad.gent.example.be",
    "successor_function": "Noodplanner",
}


def on_day(day, hour=9):
    """Stop the clock on a Brussels day."""
    return time_machine.travel(datetime.combine(day, time(hour), BRUSSELS), tick=False)


@pytest.fixture
def accounts(admin_a, cell):
    """Two additional accesses of Stad Gent, active since 5 January 2026."""
    with on_day(ACTIVATION):
        factories.created_accounts(admin=admin_a, cell=cell, quantity=2)
    return list(IcmsAccount.objects.filter(organisation=admin_a.organisation))


@pytest.fixture
def account(accounts):
    return accounts[0]


@pytest.fixture
def recording_day():
    with on_day(RECORDED_ON):
        yield RECORDED_ON


def leave(account, admin, **values):
    return holder_departure_record(
        account=account,
        recorded_by=admin,
        **{"left_on": LEFT_ON, "outcome": DepartureOutcome.CANCELLED, **values},
    )


def hand_over(account, admin, **values):
    return leave(
        account,
        admin,
        **{"outcome": DepartureOutcome.HANDED_OVER, **SUCCESSOR, **values},
    )


def reloaded(account):
    return IcmsAccount.objects.select_related("subscription").get(pk=account.pk)


class TestCancelled:
    def test_it_cancels_the_access_by_the_cancellation_rules(
        self, account, admin_a, recording_day
    ):
        holder = account.holder_name

        departure = leave(account, admin_a)

        cancellation = departure.cancellation
        assert cancellation.stop_date == date(2027, 1, 4)
        assert cancellation.channel == CancellationChannel.PORTAL
        assert cancellation.registered_by == admin_a
        assert departure.holder_name == holder
        assert departure.left_on == LEFT_ON
        assert reloaded(account).holder_name == holder
        assert departure.password_change.status == PasswordChangeStatus.PENDING

    def test_it_stops_the_access_a_period_later_once_the_deadline_has_passed(
        self, account, admin_a
    ):
        with on_day(date(2026, 11, 21)):
            departure = leave(account, admin_a, left_on=date(2026, 11, 20))

        assert departure.cancellation.stop_date == date(2028, 1, 4)

    def test_it_keeps_a_cancellation_registered_before(
        self, account, admin_a, recording_day
    ):
        cancellation = subscription_cancel(
            subscription=account.subscription,
            channel=CancellationChannel.PORTAL,
            registered_by=admin_a,
        )

        departure = leave(account, admin_a)

        assert departure.cancellation == cancellation
        assert Cancellation.objects.count() == 1

    def test_it_records_a_departure_once(self, account, admin_a, recording_day):
        leave(account, admin_a)

        with pytest.raises(ValidationError) as refused:
            leave(account, admin_a)

        assert refused.value.code == "already_recorded"
        assert HolderDeparture.objects.count() == 1
        assert PasswordChange.objects.count() == 1


class TestHandedOver:
    def test_it_hands_the_account_to_the_successor_and_keeps_who_left(
        self, account, admin_a, recording_day
    ):
        before = (account.holder_first_name, account.holder_email)

        departure = hand_over(account, admin_a)

        account = reloaded(account)
        assert (account.holder_first_name, account.holder_last_name) == (
            "Lotte",
            "Desmet",
        )
        assert account.holder_email == "lotte.desmet@stad.gent.example.be"
        assert account.holder_function == "Noodplanner"
        assert (departure.holder_first_name, departure.holder_email) == before
        assert departure.successor_name == "Lotte Desmet"
        assert departure.cancellation is None
        assert not Cancellation.objects.exists()
        assert account.subscription.active_cancellation() is None

    def test_it_asks_for_the_successors_name_and_email(
        self, account, admin_a, recording_day
    ):
        with pytest.raises(ValidationError) as refused:
            leave(account, admin_a, outcome=DepartureOutcome.HANDED_OVER)

        assert set(refused.value.message_dict) == {
            "successor_first_name",
            "successor_last_name",
            "successor_email",
        }
        assert not HolderDeparture.objects.exists()

    def test_it_refuses_the_holder_who_left_as_successor(
        self, account, admin_a, recording_day
    ):
        with pytest.raises(ValidationError) as refused:
            hand_over(account, admin_a, successor_email=account.holder_email.upper())

        assert list(refused.value.message_dict) == ["successor_email"]

    def test_it_refuses_a_successor_who_already_holds_an_access(
        self, accounts, admin_a, recording_day
    ):
        first, second = accounts

        with pytest.raises(ValidationError) as refused:
            hand_over(first, admin_a, successor_email=second.holder_email)

        assert second.username in refused.value.message_dict["successor_email"][0]


class TestEitherWay:
    @pytest.mark.parametrize("outcome", DepartureOutcome.values)
    def test_it_tells_the_cell_mailbox_to_change_the_password_after_commit(
        self,
        account,
        admin_a,
        recording_day,
        outcome,
        django_capture_on_commit_callbacks,
    ):
        values = SUCCESSOR if outcome == DepartureOutcome.HANDED_OVER else {}

        with django_capture_on_commit_callbacks(execute=True):
            departure = leave(account, admin_a, outcome=outcome, **values)

        email = OutgoingEmail.objects.get(template="password_change_needed")
        assert email.key == f"password_change.requested:{departure.password_change.pk}"
        assert (email.to, email.language) == (
            [settings.ICMS_CELL_MAILBOX],
            settings.MAILBOX_LANGUAGE,
        )
        assert account.username in email.subject
        assert departure.holder_name in email.body_text
        assert settings.ICMS_CELL_MAILBOX in [
            address for message in mail.outbox for address in message.to
        ]

    def test_it_tells_the_cell_the_account_handed_over_is_an_administrator(
        self, account, admin_a, recording_day
    ):
        IcmsAccount.objects.filter(pk=account.pk).update(level="administrator")

        hand_over(reloaded(account), admin_a)

        email = OutgoingEmail.objects.get(template="password_change_needed")
        assert "The account is at level administrator." in email.body_text

    def test_it_sends_nothing_before_the_transaction_commits(
        self, account, admin_a, recording_day
    ):
        hand_over(account, admin_a)

        assert OutgoingEmail.objects.filter(template="password_change_needed").exists()
        assert mail.outbox == []

    def test_it_sends_and_keeps_nothing_of_a_departure_rolled_back(
        self, account, admin_a, recording_day, django_capture_on_commit_callbacks
    ):
        with (
            django_capture_on_commit_callbacks(execute=True),
            pytest.raises(RuntimeError),
            transaction.atomic(),
        ):
            leave(account, admin_a)
            raise RuntimeError("the request failed after the departure")

        assert not HolderDeparture.objects.exists()
        assert not Cancellation.objects.exists()
        assert not OutgoingEmail.objects.filter(
            template__in=["password_change_needed", "cancellation_registered"]
        ).exists()
        assert mail.outbox == []

    def test_it_writes_audit_entries_with_the_client_address(
        self, account, admin_a, recording_day
    ):
        departure = leave(account, admin_a, client_address="192.0.2.30")

        entry = AuditEntry.objects.get(action="holder.departure_recorded")
        assert (entry.actor, entry.client_address) == (admin_a, "192.0.2.30")
        assert entry.object_id == str(departure.pk)
        assert entry.data["outcome"] == "cancelled"
        cancelled = AuditEntry.objects.get(action="subscription.cancelled")
        assert cancelled.client_address == "192.0.2.30"

    def test_it_refuses_a_day_in_the_future(self, account, admin_a, recording_day):
        with pytest.raises(ValidationError) as refused:
            leave(account, admin_a, left_on=date(2026, 4, 3))

        assert list(refused.value.message_dict) == ["left_on"]
        assert not HolderDeparture.objects.exists()

    def test_it_refuses_a_day_before_the_account_existed(
        self, account, admin_a, recording_day
    ):
        with pytest.raises(ValidationError) as refused:
            leave(account, admin_a, left_on=date(2025, 12, 1))

        assert list(refused.value.message_dict) == ["left_on"]

    def test_it_refuses_an_account_of_another_organisation(
        self, account, admin_b, recording_day
    ):
        with pytest.raises(ValidationError) as refused:
            leave(account, admin_b)

        assert refused.value.code == "wrong_role"
        assert not Cancellation.objects.exists()

    @pytest.mark.parametrize("persona", ["cell", "tcd"])
    def test_it_refuses_staff(self, request, account, recording_day, persona):
        with pytest.raises(ValidationError) as refused:
            leave(account, request.getfixturevalue(persona))

        assert refused.value.code == "wrong_role"

    def test_it_refuses_an_access_that_has_ended(
        self, account, admin_a, tcd, recording_day
    ):
        subscription_close(
            subscription=account.subscription,
            closed_by=tcd,
            reason=ClosureReason.BREACH,
        )

        with pytest.raises(ValidationError) as refused:
            leave(reloaded(account), admin_a)

        assert refused.value.code == "not_active"


class TestPasswordChanges:
    def test_it_lists_pending_changes_until_the_cell_marks_them_done(
        self, accounts, admin_a, cell, recording_day
    ):
        first = leave(accounts[0], admin_a).password_change
        second = hand_over(accounts[1], admin_a).password_change
        assert list(password_changes_pending()) == [first, second]

        password_change_mark_done(
            password_change=first, done_by=cell, client_address="192.0.2.40"
        )

        assert list(password_changes_pending()) == [second]
        first.refresh_from_db()
        assert (first.status, first.done_by) == (PasswordChangeStatus.DONE, cell)
        entry = AuditEntry.objects.get(action="password_change.done")
        assert (entry.actor, entry.client_address) == (cell, "192.0.2.40")

    def test_it_marks_a_change_done_once(self, account, admin_a, cell, recording_day):
        password_change = leave(account, admin_a).password_change
        password_change_mark_done(password_change=password_change, done_by=cell)

        with pytest.raises(ValidationError) as refused:
            password_change_mark_done(password_change=password_change, done_by=cell)

        assert refused.value.code == "already_done"
        assert AuditEntry.objects.filter(action="password_change.done").count() == 1

    @pytest.mark.parametrize("persona", ["admin_a", "tcd"])
    def test_it_lets_only_the_cell_mark_a_change_done(
        self, request, account, admin_a, recording_day, persona
    ):
        password_change = leave(account, admin_a).password_change

        with pytest.raises(ValidationError) as refused:
            password_change_mark_done(
                password_change=password_change,
                done_by=request.getfixturevalue(persona),
            )

        assert refused.value.code == "wrong_role"


# The pages.


def page(response):
    return lxml.html.fromstring(response.content.decode())


def errors_beside(response, name):
    [block] = page(response).xpath(
        f'//div[contains(@class, "field")][.//*[@name="{name}"]]'
    )
    return [
        error.text_content().strip() for error in block.xpath('.//*[@class="error"]')
    ]


def test_it_records_a_handover_through_the_page(
    client, account, admin_a, recording_day
):
    client.force_login(admin_a)
    url = reverse("subscriptions:departure_record", args=[account.pk])
    assert client.get(url).status_code == 200

    response = client.post(
        url, {"left_on": "2026-03-31", "outcome": "handed_over", **SUCCESSOR}
    )

    assert response.status_code == 302
    assert reloaded(account).holder_email == SUCCESSOR["successor_email"]
    entry = AuditEntry.objects.get(action="holder.departure_recorded")
    assert entry.client_address == "127.0.0.1"


def test_it_shows_missing_successor_details_beside_them_and_saves_nothing(
    client, account, admin_a, recording_day
):
    client.force_login(admin_a)

    response = client.post(
        reverse("subscriptions:departure_record", args=[account.pk]),
        {
            "left_on": "2026-03-31",
            "outcome": "handed_over",
            "successor_first_name": "Lotte",
            "successor_email": "geen-adres",
        },
    )

    assert response.status_code == 200
    assert errors_beside(response, "successor_last_name")
    assert errors_beside(response, "successor_email")
    assert not errors_beside(response, "successor_first_name")
    assert not HolderDeparture.objects.exists()
    assert not OutgoingEmail.objects.filter(template="password_change_needed").exists()


def test_it_shows_a_day_in_the_future_beside_the_field(
    client, account, admin_a, recording_day
):
    client.force_login(admin_a)

    response = client.post(
        reverse("subscriptions:departure_record", args=[account.pk]),
        {"left_on": "2026-05-01", "outcome": "cancelled"},
    )

    assert errors_beside(response, "left_on")
    assert not Cancellation.objects.exists()


def test_it_answers_another_organisations_account_as_if_it_did_not_exist(
    client, account, admin_b, recording_day
):
    client.force_login(admin_b)
    url = reverse("subscriptions:departure_record", args=[account.pk])

    assert client.get(url).status_code == 404
    assert (
        client.post(url, {"left_on": "2026-03-31", "outcome": "cancelled"}).status_code
        == 404
    )
    assert not Cancellation.objects.exists()


@pytest.mark.parametrize("persona", ["cell", "tcd"])
def test_it_keeps_staff_off_the_departure_page(
    request, client, account, recording_day, persona
):
    client.force_login(request.getfixturevalue(persona))

    response = client.get(reverse("subscriptions:departure_record", args=[account.pk]))

    assert response.status_code == 403


def test_it_lets_the_cell_mark_a_password_changed_through_the_page(
    client, account, admin_a, cell, recording_day
):
    password_change = leave(account, admin_a).password_change
    client.force_login(cell)
    url = reverse("subscriptions:password_changes")
    assert account.username in client.get(url).content.decode()

    response = client.post(url, {"password_change": password_change.pk})

    assert response.status_code == 302
    password_change.refresh_from_db()
    assert password_change.status == PasswordChangeStatus.DONE


@pytest.mark.parametrize("persona", ["admin_a", "tcd"])
def test_it_keeps_everyone_but_the_cell_off_the_password_changes(
    request, client, persona
):
    client.force_login(request.getfixturevalue(persona))

    assert client.get(reverse("subscriptions:password_changes")).status_code == 403


def test_it_shows_the_previous_holders_on_the_account_page(
    client, account, admin_a, recording_day
):
    left = account.holder_name
    hand_over(account, admin_a)
    client.force_login(admin_a)

    response = client.get(reverse("subscriptions:access_detail", args=[account.pk]))

    text = " ".join(response.content.decode().split())
    assert left in text
    assert "Lotte Desmet" in text


# Portal users who leave.


@pytest.fixture
def colleague(admin_a):
    return factories.OrganisationAdminFactory(
        email="jo.verhaeghe@stad.gent.example.be",
        first_name="Jo",
        last_name="Verhaeghe",
        organisation=admin_a.organisation,
    )


class TestPortalUsers:
    def test_it_deactivates_a_colleague_and_never_deletes_them(
        self, admin_a, colleague
    ):
        portal_user_deactivate(
            user=colleague, deactivated_by=admin_a, client_address="192.0.2.50"
        )

        colleague = User.objects.get(pk=colleague.pk)
        assert colleague.is_active is False
        entry = AuditEntry.objects.get(action="portal_user.deactivated")
        assert (entry.actor, entry.client_address) == (admin_a, "192.0.2.50")
        assert entry.object_id == str(colleague.pk)

    def test_it_keeps_a_deactivated_user_from_logging_in(
        self, client, admin_a, colleague
    ):
        portal_user_deactivate(user=colleague, deactivated_by=admin_a)

        client.post(
            reverse("accounts:login"),
            {"username": colleague.email, "password": factories.PASSWORD},
        )

        assert "_auth_user_id" not in client.session

    def test_it_ends_the_session_a_deactivated_user_still_has(
        self, client, admin_a, colleague
    ):
        client.force_login(colleague)
        assert client.get(reverse("subscriptions:access_list")).status_code == 200

        portal_user_deactivate(user=colleague, deactivated_by=admin_a)
        response = client.get(reverse("subscriptions:access_list"))

        assert response.status_code == 302
        assert response["Location"].startswith(reverse("accounts:login"))

    def test_it_refuses_to_deactivate_oneself(self, admin_a, colleague):
        with pytest.raises(ValidationError) as refused:
            portal_user_deactivate(user=admin_a, deactivated_by=admin_a)

        assert refused.value.code == "self"
        assert User.objects.get(pk=admin_a.pk).is_active

    def test_it_never_deactivates_the_last_active_admin(self, admin_a, colleague):
        # Two admins deactivate each other at the same moment: the second
        # one's request still sees itself active, but the database does not.
        portal_user_deactivate(user=colleague, deactivated_by=admin_a)

        with pytest.raises(ValidationError) as refused:
            portal_user_deactivate(user=admin_a, deactivated_by=colleague)

        assert refused.value.code == "last_admin"
        assert User.objects.get(pk=admin_a.pk).is_active

    def test_it_refuses_a_portal_user_of_another_organisation(self, admin_a, admin_b):
        with pytest.raises(ValidationError) as refused:
            portal_user_deactivate(user=admin_b, deactivated_by=admin_a)

        assert refused.value.code == "other_organisation"
        assert User.objects.get(pk=admin_b.pk).is_active

    @pytest.mark.parametrize("persona", ["cell", "tcd"])
    def test_it_lets_only_organisation_admins_deactivate(
        self, request, colleague, persona
    ):
        with pytest.raises(ValidationError) as refused:
            portal_user_deactivate(
                user=colleague, deactivated_by=request.getfixturevalue(persona)
            )

        assert refused.value.code == "wrong_role"

    def test_it_says_a_user_is_already_deactivated(self, admin_a, colleague):
        portal_user_deactivate(user=colleague, deactivated_by=admin_a)

        with pytest.raises(ValidationError) as refused:
            portal_user_deactivate(user=colleague, deactivated_by=admin_a)

        assert refused.value.code == "already_inactive"


def test_it_lists_the_organisations_portal_users_to_deactivate(
    client, admin_a, colleague, admin_b
):
    client.force_login(admin_a)

    response = client.get(reverse("accounts:people"))

    assert response.status_code == 200
    buttons = page(response).xpath('//input[@name="user"]/@value')
    assert buttons == [str(colleague.pk)]
    assert admin_b.email not in response.content.decode()


def test_it_deactivates_a_colleague_through_the_page(client, admin_a, colleague):
    client.force_login(admin_a)

    response = client.post(reverse("accounts:people"), {"user": colleague.pk})

    assert response.status_code == 302
    assert not User.objects.get(pk=colleague.pk).is_active
    assert AuditEntry.objects.get(action="portal_user.deactivated").client_address == (
        "127.0.0.1"
    )


def test_it_shows_why_oneself_cannot_be_deactivated(client, admin_a, colleague):
    client.force_login(admin_a)

    response = client.post(
        reverse("accounts:people"), {"user": admin_a.pk}, follow=True
    )

    [alert] = page(response).xpath('//ul[@class="messages"]/li')
    assert alert.get("class") == "error"
    assert User.objects.get(pk=admin_a.pk).is_active


def test_it_answers_a_user_of_another_organisation_as_if_it_did_not_exist(
    client, admin_a, admin_b
):
    client.force_login(admin_a)

    response = client.post(reverse("accounts:people"), {"user": admin_b.pk})

    assert response.status_code == 404
    assert User.objects.get(pk=admin_b.pk).is_active


@pytest.mark.parametrize("persona", ["cell", "tcd"])
def test_it_keeps_staff_off_the_portal_users_page(request, client, persona):
    client.force_login(request.getfixturevalue(persona))

    assert client.get(reverse("accounts:people")).status_code == 403
