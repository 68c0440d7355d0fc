"""Upgrades to administrator: the organisation asks, the ICMS cell decides."""

from datetime import timedelta

import lxml.html
import pytest
import time_machine
from django.conf import settings
from django.core import mail
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from audit.models import AuditEntry
from notifications.models import OutgoingEmail
from subscriptions.duties import (
    upgrade_request_approve,
    upgrade_request_refuse,
    upgrade_request_submit,
)
from subscriptions.duty_selectors import upgrade_queue
from subscriptions.models import (
    AccessLevel,
    ClosureReason,
    IcmsAccount,
    UpgradeRequest,
    UpgradeRequestStatus,
)
from subscriptions.services import subscription_close

from . import factories

pytestmark = pytest.mark.django_db

REASON = "Coördineert de noodplanning van de zone en beheert de gebruikers."


@pytest.fixture
def account(admin_a, cell):
    """An additional access of Stad Gent, at level user."""
    factories.created_accounts(admin=admin_a, cell=cell, quantity=1)
    return IcmsAccount.objects.get(organisation=admin_a.organisation)


@pytest.fixture
def account_b(admin_b, cell):
    """An additional access of Ville de Liège."""
    factories.created_accounts(admin=admin_b, cell=cell, quantity=1)
    return IcmsAccount.objects.get(organisation=admin_b.organisation)


def ask(account, admin, reason=REASON, **values):
    return upgrade_request_submit(
        account=account, requested_by=admin, reason=reason, **values
    )


def reloaded(account):
    return IcmsAccount.objects.get(pk=account.pk)


class TestAsking:
    def test_it_records_a_request_waiting_for_the_cell(self, account, admin_a):
        upgrade_request = ask(account, admin_a)

        assert upgrade_request.status == UpgradeRequestStatus.OPEN
        assert upgrade_request.requested_by == admin_a
        assert upgrade_request.reason == REASON
        assert reloaded(account).level == AccessLevel.USER

    def test_it_tells_the_cell_mailbox_once_the_request_commits(
        self, account, admin_a, django_capture_on_commit_callbacks
    ):
        with django_capture_on_commit_callbacks(execute=True):
            upgrade_request = ask(account, admin_a)

        email = OutgoingEmail.objects.get(template="upgrade_requested")
        assert email.key == f"upgrade_request.submitted:{upgrade_request.pk}"
        assert (email.to, email.language) == (
            [settings.ICMS_CELL_MAILBOX],
            settings.MAILBOX_LANGUAGE,
        )
        assert account.username in email.subject
        assert REASON in email.body_text
        [message] = mail.outbox
        assert message.to == [settings.ICMS_CELL_MAILBOX]

    def test_it_sends_nothing_before_the_transaction_commits(self, account, admin_a):
        ask(account, admin_a)

        assert OutgoingEmail.objects.filter(template="upgrade_requested").exists()
        assert mail.outbox == []

    def test_it_sends_nothing_for_a_request_rolled_back(
        self, account, admin_a, django_capture_on_commit_callbacks
    ):
        with (
            django_capture_on_commit_callbacks(execute=True),
            pytest.raises(RuntimeError),
            transaction.atomic(),
        ):
            ask(account, admin_a)
            raise RuntimeError("the request failed after the upgrade was asked")

        assert not UpgradeRequest.objects.exists()
        assert not OutgoingEmail.objects.filter(template="upgrade_requested").exists()
        assert mail.outbox == []

    def test_it_writes_an_audit_entry_with_the_client_address(self, account, admin_a):
        upgrade_request = ask(account, admin_a, client_address="192.0.2.10")

        entry = AuditEntry.objects.get(action="upgrade_request.submitted")
        assert entry.actor == admin_a
        assert entry.organisation == admin_a.organisation
        assert entry.object_id == str(upgrade_request.pk)
        assert entry.client_address == "192.0.2.10"
        assert account.username in entry.summary

    def test_it_refuses_a_second_open_request_for_the_same_account(
        self, account, admin_a
    ):
        ask(account, admin_a)
        colleague = factories.OrganisationAdminFactory(
            organisation=admin_a.organisation
        )

        with pytest.raises(ValidationError) as refused:
            ask(account, colleague, reason="Ook coördinator.")

        assert refused.value.code == "already_requested"
        assert UpgradeRequest.objects.count() == 1

    def test_it_keeps_one_open_request_per_account_in_the_database(
        self, account, admin_a
    ):
        ask(account, admin_a)

        with pytest.raises(IntegrityError), transaction.atomic():
            UpgradeRequest.objects.create(
                account=account, reason="Tweede keer.", requested_by=admin_a
            )

    def test_it_accepts_a_new_request_once_the_last_was_refused(
        self, account, admin_a, cell
    ):
        first = ask(account, admin_a)
        upgrade_request_refuse(
            upgrade_request=first, decided_by=cell, reason="Eerst een opleiding."
        )

        second = ask(account, admin_a, reason="De opleiding is gevolgd.")

        assert second.status == UpgradeRequestStatus.OPEN
        assert account.upgrade_requests.count() == 2

    @pytest.mark.parametrize("reason", ["", "   \n"])
    def test_it_refuses_a_request_without_a_reason(self, account, admin_a, reason):
        with pytest.raises(ValidationError) as refused:
            ask(account, admin_a, reason=reason)

        assert "reason" in refused.value.message_dict
        assert not UpgradeRequest.objects.exists()
        assert not AuditEntry.objects.filter(
            action="upgrade_request.submitted"
        ).exists()

    def test_it_refuses_an_account_of_another_organisation(self, account, admin_b):
        with pytest.raises(ValidationError) as refused:
            ask(account, admin_b)

        assert refused.value.code == "wrong_role"
        assert not UpgradeRequest.objects.exists()

    @pytest.mark.parametrize("persona", ["cell", "tcd"])
    def test_it_refuses_a_request_from_staff(self, request, account, persona):
        with pytest.raises(ValidationError) as refused:
            ask(account, request.getfixturevalue(persona))

        assert refused.value.code == "wrong_role"

    def test_it_refuses_an_account_already_at_level_administrator(
        self, account, admin_a
    ):
        IcmsAccount.objects.filter(pk=account.pk).update(
            level=AccessLevel.ADMINISTRATOR
        )

        with pytest.raises(ValidationError) as refused:
            ask(account, admin_a)

        assert refused.value.code == "already_administrator"

    def test_it_refuses_an_access_that_has_ended(self, account, admin_a, tcd):
        subscription_close(
            subscription=account.subscription,
            closed_by=tcd,
            reason=ClosureReason.SECURITY_RISK,
        )

        with pytest.raises(ValidationError) as refused:
            ask(reloaded(account), admin_a)

        assert refused.value.code == "not_active"


class TestDeciding:
    def test_it_raises_the_account_to_administrator_on_approval(
        self, account, admin_a, cell
    ):
        upgrade_request = ask(account, admin_a)

        upgrade_request_approve(
            upgrade_request=upgrade_request, decided_by=cell, client_address="::1"
        )

        upgrade_request.refresh_from_db()
        assert upgrade_request.status == UpgradeRequestStatus.APPROVED
        assert upgrade_request.decided_by == cell
        assert upgrade_request.decided_at is not None
        assert reloaded(account).level == AccessLevel.ADMINISTRATOR
        entry = AuditEntry.objects.get(action="upgrade_request.approved")
        assert (entry.actor, entry.client_address) == (cell, "::1")
        assert entry.data == {"from": "user", "to": "administrator"}

    def test_it_tells_the_admins_of_the_approval_in_the_organisations_language(
        self, account_b, admin_b, cell, django_capture_on_commit_callbacks
    ):
        colleague = factories.OrganisationAdminFactory(
            email="marie.lambert@liege.example.be", organisation=admin_b.organisation
        )
        upgrade_request = ask(account_b, admin_b)

        with django_capture_on_commit_callbacks(execute=True):
            upgrade_request_approve(upgrade_request=upgrade_request, decided_by=cell)

        email = OutgoingEmail.objects.get(template="upgrade_approved")
        assert email.to == sorted([admin_b.email, colleague.email])
        assert email.language == "fr"
        assert mail.outbox[-1].to == email.to

    def test_it_tells_the_admins_why_the_upgrade_was_refused(
        self, account, admin_a, cell, django_capture_on_commit_callbacks
    ):
        upgrade_request = ask(account, admin_a)

        with django_capture_on_commit_callbacks(execute=True):
            upgrade_request_refuse(
                upgrade_request=upgrade_request,
                decided_by=cell,
                reason="Eén beheerder per zone volstaat.",
                client_address="192.0.2.20",
            )

        upgrade_request.refresh_from_db()
        assert upgrade_request.status == UpgradeRequestStatus.REFUSED
        assert upgrade_request.refusal_reason == "Eén beheerder per zone volstaat."
        assert reloaded(account).level == AccessLevel.USER
        email = OutgoingEmail.objects.get(template="upgrade_refused")
        assert (email.to, email.language) == ([admin_a.email], "nl")
        assert "Eén beheerder per zone volstaat." in email.body_text
        assert mail.outbox[-1].to == [admin_a.email]
        entry = AuditEntry.objects.get(action="upgrade_request.refused")
        assert (entry.actor, entry.client_address) == (cell, "192.0.2.20")

    @pytest.mark.parametrize("reason", ["", "  "])
    def test_it_refuses_a_refusal_without_a_reason(
        self, account, admin_a, cell, reason
    ):
        upgrade_request = ask(account, admin_a)

        with pytest.raises(ValidationError) as refused:
            upgrade_request_refuse(
                upgrade_request=upgrade_request, decided_by=cell, reason=reason
            )

        assert "reason" in refused.value.message_dict
        upgrade_request.refresh_from_db()
        assert upgrade_request.status == UpgradeRequestStatus.OPEN
        assert not OutgoingEmail.objects.filter(template="upgrade_refused").exists()

    @pytest.mark.parametrize("persona", ["admin_a", "tcd"])
    def test_it_lets_only_the_cell_decide(self, request, account, admin_a, persona):
        upgrade_request = ask(account, admin_a)
        user = request.getfixturevalue(persona)

        with pytest.raises(ValidationError) as approving:
            upgrade_request_approve(upgrade_request=upgrade_request, decided_by=user)
        with pytest.raises(ValidationError) as refusing:
            upgrade_request_refuse(
                upgrade_request=upgrade_request, decided_by=user, reason="Nee."
            )

        assert approving.value.code == refusing.value.code == "wrong_role"
        assert reloaded(account).level == AccessLevel.USER

    def test_it_decides_a_request_once(self, account, admin_a, cell):
        upgrade_request = ask(account, admin_a)
        upgrade_request_approve(upgrade_request=upgrade_request, decided_by=cell)

        with pytest.raises(ValidationError) as refused:
            upgrade_request_refuse(
                upgrade_request=upgrade_request, decided_by=cell, reason="Toch niet."
            )

        assert refused.value.code == "wrong_status"
        upgrade_request.refresh_from_db()
        assert upgrade_request.status == UpgradeRequestStatus.APPROVED

    def test_it_does_not_approve_an_access_that_ended_meanwhile(
        self, account, admin_a, cell, tcd
    ):
        upgrade_request = ask(account, admin_a)
        subscription_close(
            subscription=account.subscription,
            closed_by=tcd,
            reason=ClosureReason.BREACH,
        )

        with pytest.raises(ValidationError) as refused:
            upgrade_request_approve(upgrade_request=upgrade_request, decided_by=cell)

        assert refused.value.code == "not_active"
        upgrade_request.refresh_from_db()
        assert upgrade_request.status == UpgradeRequestStatus.OPEN


def test_it_lists_open_requests_oldest_first(admin_a, admin_b, cell):
    factories.created_accounts(admin=admin_a, cell=cell, quantity=2)
    factories.created_accounts(admin=admin_b, cell=cell, quantity=1)
    first, second = IcmsAccount.objects.filter(organisation=admin_a.organisation)
    of_b = IcmsAccount.objects.get(organisation=admin_b.organisation)
    start = timezone.now()
    with time_machine.travel(start + timedelta(hours=1)):
        newest = ask(first, admin_a)
    with time_machine.travel(start + timedelta(minutes=10)):
        oldest = ask(of_b, admin_b)
    with time_machine.travel(start + timedelta(minutes=30)):
        decided = ask(second, admin_a)
    upgrade_request_approve(upgrade_request=decided, decided_by=cell)

    assert list(upgrade_queue()) == [oldest, newest]


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


def test_it_offers_the_admin_to_ask_from_the_access_page(client, account, admin_a):
    client.force_login(admin_a)

    response = client.get(reverse("subscriptions:access_detail", args=[account.pk]))

    links = page(response).xpath("//a/@href")
    assert reverse("subscriptions:upgrade_request_new", args=[account.pk]) in links
    assert reverse("subscriptions:departure_record", args=[account.pk]) in links


def test_it_lets_the_admin_ask_through_the_page(client, account, admin_a):
    client.force_login(admin_a)
    url = reverse("subscriptions:upgrade_request_new", args=[account.pk])

    response = client.post(url, {"reason": REASON})

    assert response.status_code == 302
    assert response["Location"] == reverse(
        "subscriptions:access_detail", args=[account.pk]
    )
    upgrade_request = UpgradeRequest.objects.get()
    assert upgrade_request.reason == REASON
    entry = AuditEntry.objects.get(action="upgrade_request.submitted")
    assert entry.client_address == "127.0.0.1"


def test_it_shows_a_missing_reason_beside_the_field(client, account, admin_a):
    client.force_login(admin_a)
    url = reverse("subscriptions:upgrade_request_new", args=[account.pk])

    response = client.post(url, {"reason": "  "})

    assert response.status_code == 200
    assert errors_beside(response, "reason")
    assert not UpgradeRequest.objects.exists()


def test_it_shows_no_form_while_a_request_waits(client, account, admin_a):
    ask(account, admin_a)
    client.force_login(admin_a)

    response = client.get(
        reverse("subscriptions:upgrade_request_new", args=[account.pk])
    )

    assert response.status_code == 200
    assert not page(response).xpath('//textarea[@name="reason"]')


def test_it_answers_another_organisations_account_as_if_it_did_not_exist(
    client, account, admin_b
):
    client.force_login(admin_b)
    url = reverse("subscriptions:upgrade_request_new", args=[account.pk])

    assert client.get(url).status_code == 404
    assert client.post(url, {"reason": REASON}).status_code == 404
    assert not UpgradeRequest.objects.exists()


@pytest.mark.parametrize("persona", ["cell", "tcd"])
def test_it_keeps_staff_off_the_page_that_asks(request, client, account, persona):
    client.force_login(request.getfixturevalue(persona))

    response = client.post(
        reverse("subscriptions:upgrade_request_new", args=[account.pk]),
        {"reason": REASON},
    )

    assert response.status_code == 403
    assert not UpgradeRequest.objects.exists()


@pytest.mark.parametrize("persona", ["admin_a", "tcd"])
def test_it_keeps_everyone_but_the_cell_off_the_queue(request, client, persona):
    client.force_login(request.getfixturevalue(persona))

    assert client.get(reverse("subscriptions:upgrade_queue")).status_code == 403


def test_it_lets_the_cell_approve_from_the_queue(client, account, admin_a, cell):
    upgrade_request = ask(account, admin_a)
    client.force_login(cell)
    url = reverse("subscriptions:upgrade_queue")
    assert account.username in client.get(url).content.decode()

    response = client.post(
        url,
        {
            "upgrade_request": upgrade_request.pk,
            f"upgrade-{upgrade_request.pk}-decision": "approve",
        },
    )

    assert response.status_code == 302
    assert reloaded(account).level == AccessLevel.ADMINISTRATOR
    assert not page(client.get(url)).xpath('//input[@name="upgrade_request"]')


def test_it_shows_a_missing_refusal_reason_beside_the_field_in_the_queue(
    client, account, admin_a, cell
):
    upgrade_request = ask(account, admin_a)
    client.force_login(cell)
    prefix = f"upgrade-{upgrade_request.pk}"

    response = client.post(
        reverse("subscriptions:upgrade_queue"),
        {"upgrade_request": upgrade_request.pk, f"{prefix}-decision": "refuse"},
    )

    assert response.status_code == 200
    assert errors_beside(response, f"{prefix}-reason")
    upgrade_request.refresh_from_db()
    assert upgrade_request.status == UpgradeRequestStatus.OPEN
    assert not AuditEntry.objects.filter(action="upgrade_request.refused").exists()


def test_it_tells_the_cell_when_a_request_was_decided_meanwhile(
    client, account, admin_a, cell
):
    upgrade_request = ask(account, admin_a)
    upgrade_request_approve(upgrade_request=upgrade_request, decided_by=cell)
    client.force_login(cell)

    response = client.post(
        reverse("subscriptions:upgrade_queue"),
        {
            "upgrade_request": upgrade_request.pk,
            f"upgrade-{upgrade_request.pk}-decision": "refuse",
            f"upgrade-{upgrade_request.pk}-reason": "Te laat.",
        },
        follow=True,
    )

    [alert] = page(response).xpath('//ul[@class="messages"]/li')
    assert alert.get("class") == "error"
    upgrade_request.refresh_from_db()
    assert upgrade_request.status == UpgradeRequestStatus.APPROVED


def test_it_shows_the_level_history_on_the_account_page(client, account, admin_a, cell):
    refused = ask(account, admin_a)
    upgrade_request_refuse(
        upgrade_request=refused, decided_by=cell, reason="Eerst een opleiding volgen."
    )
    approved = ask(account, admin_a, reason="De opleiding is gevolgd.")
    upgrade_request_approve(upgrade_request=approved, decided_by=cell)
    client.force_login(admin_a)

    response = client.get(reverse("subscriptions:access_detail", args=[account.pk]))

    history = " ".join(
        page(response).xpath('//ol[@class="timeline"]')[0].text_content().split()
    )
    assert history.count(admin_a.full_name) == 2
    assert history.count(cell.full_name) == 3  # created the account, then decided
    assert "Eerst een opleiding volgen." in history
    assert "De opleiding is gevolgd." in history
    upgrade_url = reverse("subscriptions:upgrade_request_new", args=[account.pk])
    assert upgrade_url not in page(response).xpath("//a/@href")
