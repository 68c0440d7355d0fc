"""Suspicious situations: anyone reports one, the helpdesk gets it at once,
TCD follows it up."""

from datetime import datetime, timedelta

import lxml.html
import pytest
from django.conf import settings
from django.core import mail
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts.models import (
    SuspiciousReport,
    SuspiciousReportStatus,
    SuspiciousReportStatusChange,
)
from accounts.services import suspicious_report_set_status, suspicious_report_submit
from audit.models import AuditEntry
from notifications.models import OutgoingEmail
from subscriptions.models import IcmsAccount
from subscriptions.periods import BRUSSELS

from . import factories

pytestmark = pytest.mark.django_db

WHAT = (
    "Ik kreeg een e-mail die vroeg om mijn ICMS-wachtwoord te bevestigen via een "
    "link naar een onbekende site."
)


@pytest.fixture
def account(admin_a, cell):
    factories.created_accounts(admin=admin_a, cell=cell, quantity=1)
    return IcmsAccount.objects.get(organisation=admin_a.organisation)


@pytest.fixture
def account_b(admin_b, cell):
    factories.created_accounts(admin=admin_b, cell=cell, quantity=1)
    return IcmsAccount.objects.get(organisation=admin_b.organisation)


def an_hour_ago():
    return timezone.now() - timedelta(hours=1)


def report_of(user, **values):
    return suspicious_report_submit(
        reported_by=user,
        **{"description": WHAT, "happened_at": an_hour_ago(), **values},
    )


class TestReporting:
    @pytest.mark.parametrize("persona", ["admin_a", "cell", "tcd"])
    def test_it_keeps_a_report_from_anyone_logged_in(self, request, persona):
        user = request.getfixturevalue(persona)

        report = report_of(user, client_address="192.0.2.60")

        assert report.status == SuspiciousReportStatus.RECEIVED
        assert report.reported_by == user
        assert report.organisation == user.organisation
        assert report.reference.startswith("SR-")
        entry = AuditEntry.objects.get(action="suspicious_report.submitted")
        assert (entry.actor, entry.client_address) == (user, "192.0.2.60")

    def test_it_emails_the_helpdesk_and_a_receipt_once_it_commits(
        self, admin_b, django_capture_on_commit_callbacks
    ):
        with django_capture_on_commit_callbacks(execute=True):
            report = report_of(admin_b, description="Connexion inconnue à 3h du matin.")

        to_helpdesk = OutgoingEmail.objects.get(template="suspicious_report_received")
        assert to_helpdesk.key == f"suspicious_report.received:{report.pk}"
        assert (to_helpdesk.to, to_helpdesk.language) == (
            [settings.HELPDESK_MAILBOX],
            settings.MAILBOX_LANGUAGE,
        )
        assert "Connexion inconnue" in to_helpdesk.body_text
        assert admin_b.email in to_helpdesk.body_text
        receipt = OutgoingEmail.objects.get(template="suspicious_report_receipt")
        assert (receipt.to, receipt.language) == ([admin_b.email], "fr")
        assert report.reference in receipt.subject
        assert sorted(message.to[0] for message in mail.outbox) == sorted(
            [settings.HELPDESK_MAILBOX, admin_b.email]
        )

    def test_it_sends_nothing_before_the_transaction_commits(self, admin_a):
        report_of(admin_a)

        assert (
            OutgoingEmail.objects.filter(template__startswith="suspicious").count() == 2
        )
        assert mail.outbox == []

    def test_it_sends_and_keeps_nothing_of_a_report_rolled_back(
        self, admin_a, django_capture_on_commit_callbacks
    ):
        with (
            django_capture_on_commit_callbacks(execute=True),
            pytest.raises(RuntimeError),
            transaction.atomic(),
        ):
            report_of(admin_a)
            raise RuntimeError("the request failed after the report")

        assert not SuspiciousReport.objects.exists()
        assert not OutgoingEmail.objects.exists()
        assert mail.outbox == []

    def test_it_names_an_icms_account_of_the_reporters_organisation(
        self, account, admin_a
    ):
        report = report_of(admin_a, username=account.username.upper())

        assert report.icms_account == account

    def test_it_refuses_an_account_of_another_organisation_as_if_unknown(
        self, account_b, admin_a
    ):
        with pytest.raises(ValidationError) as refused:
            report_of(admin_a, username=account_b.username)
        with pytest.raises(ValidationError) as unknown:
            report_of(admin_a, username="niemand.hier")

        assert refused.value.message_dict == unknown.value.message_dict
        assert list(refused.value.message_dict) == ["username"]
        assert not SuspiciousReport.objects.exists()

    def test_it_lets_staff_name_any_account(self, account_b, tcd):
        assert report_of(tcd, username=account_b.username).icms_account == account_b

    @pytest.mark.parametrize("description", ["", "  \n"])
    def test_it_asks_what_happened(self, admin_a, description):
        with pytest.raises(ValidationError) as refused:
            report_of(admin_a, description=description)

        assert list(refused.value.message_dict) == ["description"]

    def test_it_refuses_a_moment_in_the_future(self, admin_a):
        with pytest.raises(ValidationError) as refused:
            report_of(admin_a, happened_at=timezone.now() + timedelta(hours=2))

        assert list(refused.value.message_dict) == ["happened_at"]
        assert not SuspiciousReport.objects.exists()


class TestFollowingUp:
    def test_it_moves_a_report_on_and_keeps_every_change(self, admin_a, tcd):
        report = report_of(admin_a)

        suspicious_report_set_status(
            report=report,
            changed_by=tcd,
            status=SuspiciousReportStatus.INVESTIGATING,
            client_address="192.0.2.70",
        )
        suspicious_report_set_status(
            report=report,
            changed_by=tcd,
            status=SuspiciousReportStatus.CLOSED,
            note="Phishing; het domein is geblokkeerd.",
        )

        report.refresh_from_db()
        assert report.status == SuspiciousReportStatus.CLOSED
        assert report.status_note == "Phishing; het domein is geblokkeerd."
        assert list(
            SuspiciousReportStatusChange.objects.values_list(
                "from_status", "to_status", "changed_by"
            )
        ) == [
            ("received", "investigating", tcd.pk),
            ("investigating", "closed", tcd.pk),
        ]
        entries = AuditEntry.objects.filter(action="suspicious_report.status_changed")
        assert [entry.data for entry in entries] == [
            {"from": "received", "to": "investigating"},
            {"from": "investigating", "to": "closed"},
        ]
        assert entries[0].client_address == "192.0.2.70"

    def test_it_asks_for_a_note_to_close_a_report(self, admin_a, tcd):
        report = report_of(admin_a)

        with pytest.raises(ValidationError) as refused:
            suspicious_report_set_status(
                report=report, changed_by=tcd, status=SuspiciousReportStatus.CLOSED
            )

        assert list(refused.value.message_dict) == ["note"]
        report.refresh_from_db()
        assert report.status == SuspiciousReportStatus.RECEIVED
        assert not SuspiciousReportStatusChange.objects.exists()

    def test_it_refuses_a_change_the_status_does_not_allow(self, admin_a, tcd):
        report = report_of(admin_a)
        suspicious_report_set_status(
            report=report, changed_by=tcd, status=SuspiciousReportStatus.INVESTIGATING
        )

        with pytest.raises(ValidationError) as refused:
            suspicious_report_set_status(
                report=report,
                changed_by=tcd,
                status=SuspiciousReportStatus.RECEIVED,
            )

        assert list(refused.value.message_dict) == ["status"]
        assert SuspiciousReportStatusChange.objects.count() == 1

    def test_it_reopens_a_closed_report(self, admin_a, tcd):
        report = report_of(admin_a)
        suspicious_report_set_status(
            report=report, changed_by=tcd, status="closed", note="Vals alarm."
        )

        suspicious_report_set_status(
            report=report, changed_by=tcd, status="investigating", note="Opnieuw."
        )

        report.refresh_from_db()
        assert report.status == SuspiciousReportStatus.INVESTIGATING

    @pytest.mark.parametrize("persona", ["admin_a", "cell"])
    def test_it_lets_only_tcd_change_the_status(self, request, admin_a, persona):
        report = report_of(admin_a)

        with pytest.raises(ValidationError) as refused:
            suspicious_report_set_status(
                report=report,
                changed_by=request.getfixturevalue(persona),
                status=SuspiciousReportStatus.INVESTIGATING,
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


@pytest.mark.parametrize("persona", ["admin_a", "cell", "tcd"])
def test_it_links_every_page_to_the_report_form(request, client, persona):
    client.force_login(request.getfixturevalue(persona))

    response = client.get(reverse("subscriptions:access_list"))

    assert reverse("accounts:report_new") in page(response).xpath("//footer//a/@href")


def test_it_shows_no_report_link_before_login(client):
    response = client.get(reverse("accounts:login"))

    assert reverse("accounts:report_new") not in response.content.decode()


def test_it_takes_a_report_through_the_page(client, account, admin_a):
    client.force_login(admin_a)
    happened = an_hour_ago().astimezone(BRUSSELS).strftime("%Y-%m-%dT%H:%M")

    response = client.post(
        reverse("accounts:report_new"),
        {"description": WHAT, "happened_at": happened, "username": account.username},
    )

    assert response.status_code == 302
    report = SuspiciousReport.objects.get()
    assert report.icms_account == account
    assert report.happened_at == datetime.strptime(happened, "%Y-%m-%dT%H:%M").replace(
        tzinfo=BRUSSELS
    )
    entry = AuditEntry.objects.get(action="suspicious_report.submitted")
    assert entry.client_address == "127.0.0.1"
    listed = client.get(reverse("accounts:report_new")).content.decode()
    assert report.reference in listed


def test_it_shows_bad_input_beside_the_fields_and_keeps_nothing(client, admin_a):
    client.force_login(admin_a)
    tomorrow = (timezone.now() + timedelta(days=1)).astimezone(BRUSSELS)

    response = client.post(
        reverse("accounts:report_new"),
        {
            "description": WHAT,
            "happened_at": tomorrow.strftime("%Y-%m-%dT%H:%M"),
            "username": "niemand.hier",
        },
    )

    assert response.status_code == 200
    assert errors_beside(response, "happened_at")
    assert errors_beside(response, "username")
    assert not errors_beside(response, "description")
    assert not SuspiciousReport.objects.exists()
    assert not OutgoingEmail.objects.exists()


def test_it_asks_for_what_happened_and_when(client, admin_a):
    client.force_login(admin_a)

    response = client.post(reverse("accounts:report_new"), {"description": " "})

    assert errors_beside(response, "description")
    assert errors_beside(response, "happened_at")
    assert not SuspiciousReport.objects.exists()


def test_it_shows_a_reporter_only_their_own_reports(client, admin_a, admin_b):
    mine = report_of(admin_a)
    theirs = report_of(admin_b)
    client.force_login(admin_a)

    text = client.get(reverse("accounts:report_new")).content.decode()

    assert mine.reference in text
    assert theirs.reference not in text


@pytest.mark.parametrize("persona", ["admin_a", "cell"])
def test_it_keeps_everyone_but_tcd_off_the_report_list(request, client, persona):
    client.force_login(request.getfixturevalue(persona))

    assert client.get(reverse("accounts:report_list")).status_code == 403


def test_it_lets_tcd_change_a_status_through_the_page(client, admin_a, tcd):
    report = report_of(admin_a)
    client.force_login(tcd)

    response = client.post(
        reverse("accounts:report_list"),
        {"report": report.pk, f"report-{report.pk}-status": "investigating"},
    )

    assert response.status_code == 302
    report.refresh_from_db()
    assert report.status == SuspiciousReportStatus.INVESTIGATING


def test_it_shows_a_missing_closing_note_beside_the_field(client, admin_a, tcd):
    report = report_of(admin_a)
    client.force_login(tcd)

    response = client.post(
        reverse("accounts:report_list"),
        {"report": report.pk, f"report-{report.pk}-status": "closed"},
    )

    assert response.status_code == 200
    assert errors_beside(response, f"report-{report.pk}-note")
    report.refresh_from_db()
    assert report.status == SuspiciousReportStatus.RECEIVED


def test_it_lists_reports_in_as_many_queries_however_many_there_are(
    client, admin_a, admin_b, tcd
):
    client.force_login(tcd)
    first = report_of(admin_a)
    suspicious_report_set_status(report=first, changed_by=tcd, status="investigating")
    with CaptureQueriesContext(connection) as few:
        client.get(reverse("accounts:report_list"))
    for user in (admin_a, admin_b, tcd):
        report = report_of(user)
        suspicious_report_set_status(
            report=report, changed_by=tcd, status="closed", note="Afgehandeld."
        )

    with CaptureQueriesContext(connection) as more:
        response = client.get(reverse("accounts:report_list"))

    assert len(more) == len(few)
    headings = [h.text_content() for h in page(response).xpath("//section/h2")]
    assert first.reference in headings[0]
