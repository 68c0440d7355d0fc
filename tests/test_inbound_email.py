"""Cancellations sent by email to TCD's admin mailbox: through Postmark's inbound
webhook, through the provider-independent decision, and TCD's review queue."""

import base64
import json
from datetime import date

import pytest
from django.conf import settings
from django.core.exceptions import ValidationError
from django.urls import reverse

from notifications.models import OutgoingEmail
from subscriptions import tasks
from subscriptions.inbound import (
    Authentication,
    InboundMessage,
    authentication_verdict,
    inbound_email_receive,
    inbound_email_store,
)
from subscriptions.models import (
    Cancellation,
    CancellationChannel,
    ClosureReason,
    InboundEmail,
    InboundEmailReason,
    InboundEmailStatus,
)
from subscriptions.services import (
    inbound_email_resolve,
    subscription_cancel,
    subscription_close,
)

from . import factories
from .lifecycle_helpers import (
    additional_access,
    additional_accesses,
    clock_at,
    nothing_written,
    on_day,
    utc,
)

pytestmark = pytest.mark.django_db

WEBHOOK = "/anymail/postmark/inbound/"
WEBHOOK_AUTHORIZATION = (
    "Basic " + base64.b64encode(b"inbound:test-webhook-secret").decode()
)

# What Postmark's inbound servers add to a message they received.
DMARC_PASS = [
    (
        "Authentication-Results",
        "inbound.postmarkapp.com; spf=pass smtp.mailfrom=stad.gent.example.be; "
        "dkim=pass header.d=stad.gent.example.be; dmarc=pass "
        "header.from=stad.gent.example.be",
    )
]
SPF_PASS = [
    (
        "Received-SPF",
        "Pass (sender SPF authorized) identity=mailfrom; client-ip=192.0.2.25; "
        "helo=mail.stad.gent.example.be; envelope-from=an.peeters@stad.gent.example.be",
    )
]
SPF_FAIL = [
    (
        "Authentication-Results",
        "inbound.postmarkapp.com; spf=fail smtp.mailfrom=stad.gent.example.be; "
        "dkim=none; dmarc=fail header.from=stad.gent.example.be",
    )
]

ON_THE_LAST_DAY = utc(2026, 11, 16, 22, 59)  # 23:59 in Brussels
JUST_AFTER_MIDNIGHT = utc(2026, 11, 16, 23, 0, 30)  # 00:00:30 on 17 November


def postmark_inbound(
    *,
    sender="an.peeters@stad.gent.example.be",
    name="An Peeters",
    subject="Opzegging ICMS-toegang gent.officier1",
    text="Goedendag,\n\nWij zeggen de ICMS-toegang gent.officier1 op.\n\nAn Peeters\n",
    message_id="<20261116.opzegging@mail.stad.gent.example.be>",
    authentication=DMARC_PASS,
    spam="No",
    sent="Mon, 16 Nov 2026 23:58:00 +0100",
    reply_to="",
):
    """A message as Postmark's inbound webhook posts it, without the raw email."""
    headers = [
        ("Return-Path", f"<{sender}>"),
        *authentication,
        ("X-Spam-Checker-Version", "SpamAssassin 3.4.0 on inbound.postmarkapp.com"),
        ("X-Spam-Status", spam),
        ("X-Spam-Score", "5.2" if spam == "Yes" else "-0.1"),
        ("Message-ID", message_id),
        ("MIME-Version", "1.0"),
    ]
    return {
        "FromName": name,
        "MessageStream": "inbound",
        "From": sender,
        "FromFull": {"Email": sender, "Name": name, "MailboxHash": ""},
        "To": settings.TCD_MAILBOX,
        "ToFull": [{"Email": settings.TCD_MAILBOX, "Name": "", "MailboxHash": ""}],
        "Cc": "",
        "CcFull": [],
        "Bcc": "",
        "BccFull": [],
        "OriginalRecipient": settings.TCD_MAILBOX,
        "Subject": subject,
        "MessageID": "73e6d360-66eb-11e1-8e72-a8904824019b",
        "ReplyTo": reply_to,
        "MailboxHash": "",
        "Date": sent,
        "TextBody": text,
        "HtmlBody": "",
        "StrippedTextReply": "",
        "Tag": "",
        "Headers": [{"Name": name, "Value": value} for name, value in headers],
        "Attachments": [],
    }


def deliver(client, payload, authorization=WEBHOOK_AUTHORIZATION):
    body = payload if isinstance(payload, str) else json.dumps(payload)
    return client.post(
        WEBHOOK,
        data=body,
        content_type="application/json",
        HTTP_AUTHORIZATION=authorization,
    )


def message(**values):
    """A message as any provider's adapter hands it over."""
    return InboundMessage(
        **{
            "message_id": "<opzegging-1@mail.stad.gent.example.be>",
            "received_at": ON_THE_LAST_DAY,
            "sender": "An Peeters <an.peeters@stad.gent.example.be>",
            "subject": "Opzegging gent.officier1",
            "text": "Graag de toegang gent.officier1 stopzetten.",
            "authentication": Authentication.PASS,
            **values,
        }
    )


@pytest.fixture
def access(admin_a, cell):
    """An additional access of Stad Gent, activated on 1 January 2026."""
    return additional_access(
        admin=admin_a,
        cell=cell,
        activation_date=date(2026, 1, 1),
        username="gent.officier1",
    )


class TestWebhook:
    def test_it_registers_a_cancellation_from_an_admin_of_the_organisation(
        self, client, access, admin_a
    ):
        with clock_at(ON_THE_LAST_DAY):
            response = deliver(client, postmark_inbound())

        assert response.status_code == 200
        inbound = InboundEmail.objects.get()
        assert inbound.status == InboundEmailStatus.REGISTERED
        assert inbound.message_id == "<20261116.opzegging@mail.stad.gent.example.be>"
        assert inbound.sender_address == "an.peeters@stad.gent.example.be"
        assert inbound.sender_name == "An Peeters"
        cancellation = inbound.cancellation
        assert cancellation.subscription == access.subscription
        assert cancellation.channel == CancellationChannel.EMAIL
        assert cancellation.registered_by == admin_a
        assert cancellation.received_at == ON_THE_LAST_DAY
        assert cancellation.stop_date == date(2026, 12, 31)

    def test_it_registers_a_message_whose_spf_passed(self, client, access):
        with clock_at(ON_THE_LAST_DAY):
            deliver(client, postmark_inbound(authentication=SPF_PASS))

        assert InboundEmail.objects.get().status == InboundEmailStatus.REGISTERED

    def test_it_counts_the_moment_the_message_arrived(self, client, access):
        # Written before midnight by the sender's clock, received after it.
        with clock_at(JUST_AFTER_MIDNIGHT):
            deliver(client, postmark_inbound(sent="Mon, 16 Nov 2026 23:58:00 +0100"))

        cancellation = Cancellation.objects.get()
        assert cancellation.received_at == JUST_AFTER_MIDNIGHT
        assert cancellation.stop_date == date(2027, 12, 31)

    def test_it_matches_a_display_name_and_capitals(self, client, access, admin_a):
        with clock_at(ON_THE_LAST_DAY):
            deliver(
                client,
                postmark_inbound(
                    sender="AN.PEETERS@STAD.GENT.EXAMPLE.BE",
                    name="An Claes",
                    subject="OPZEGGING GENT.OFFICIER1",
                    text="",
                ),
            )

        inbound = InboundEmail.objects.get()
        assert inbound.status == InboundEmailStatus.REGISTERED
        assert inbound.cancellation.registered_by == admin_a

    def test_it_sends_the_receipt_to_the_address_stored_in_the_portal(
        self, client, access, admin_a
    ):
        with clock_at(ON_THE_LAST_DAY):
            deliver(
                client,
                postmark_inbound(
                    sender="AN.PEETERS@STAD.GENT.EXAMPLE.BE",
                    reply_to="an.peeters@elders.example.com",
                ),
            )

        cancellation = Cancellation.objects.get()
        receipt = OutgoingEmail.objects.get(
            key=f"cancellation.registered:{cancellation.pk}"
        )
        assert receipt.to == [admin_a.email]
        assert cancellation.sender_email == "an.peeters@stad.gent.example.be"
        assert OutgoingEmail.objects.get(
            key=f"cancellation.registered.tcd:{cancellation.pk}"
        ).to == [settings.TCD_MAILBOX]

    def test_it_registers_a_message_delivered_twice_once(self, client, access):
        with clock_at(ON_THE_LAST_DAY):
            first = deliver(client, postmark_inbound())
        with clock_at(JUST_AFTER_MIDNIGHT):
            second = deliver(client, postmark_inbound())

        assert (first.status_code, second.status_code) == (200, 200)
        assert InboundEmail.objects.count() == 1
        cancellation = Cancellation.objects.get()
        assert cancellation.received_at == ON_THE_LAST_DAY
        assert (
            OutgoingEmail.objects.filter(template="cancellation_registered").count()
            == 2
        )

    @pytest.mark.parametrize(
        ("values", "reason"),
        [
            (
                {"sender": "an.peeters@thuis.example.com"},
                InboundEmailReason.UNKNOWN_SENDER,
            ),
            (
                {"subject": "Opzegging", "text": "Wij zeggen onze toegang op."},
                InboundEmailReason.NO_ACCOUNT,
            ),
            (
                {"subject": "Opzegging gent.officier9", "text": ""},
                InboundEmailReason.NO_ACCOUNT,
            ),
            (
                {"text": "Ook gent.officier2 mag weg."},
                InboundEmailReason.SEVERAL_ACCOUNTS,
            ),
            ({"authentication": SPF_FAIL}, InboundEmailReason.AUTHENTICATION_FAILED),
            (
                {"authentication": DMARC_PASS, "spam": "Yes"},
                InboundEmailReason.AUTHENTICATION_FAILED,
            ),
            ({"authentication": []}, InboundEmailReason.AUTHENTICATION_FAILED),
        ],
    )
    def test_it_keeps_a_message_it_cannot_act_on_for_review(
        self, client, admin_a, cell, values, reason
    ):
        additional_accesses(
            admin=admin_a,
            cell=cell,
            activation_date=date(2026, 1, 1),
            usernames=["gent.officier1", "gent.officier2"],
        )

        with clock_at(ON_THE_LAST_DAY):
            response = deliver(client, postmark_inbound(**values))

        assert response.status_code == 200
        inbound = InboundEmail.objects.get()
        assert (inbound.status, inbound.reason) == (InboundEmailStatus.REVIEW, reason)
        assert inbound.received_at == ON_THE_LAST_DAY
        assert not Cancellation.objects.exists()

    def test_it_keeps_for_review_a_message_naming_another_organisations_account(
        self, client, access, admin_b
    ):
        with clock_at(ON_THE_LAST_DAY):
            deliver(
                client,
                postmark_inbound(sender=admin_b.email, name="Luc Dubois"),
            )

        inbound = InboundEmail.objects.get()
        assert inbound.reason == InboundEmailReason.OTHER_ORGANISATION
        assert not Cancellation.objects.exists()

    def test_it_keeps_for_review_a_message_for_an_access_already_cancelled(
        self, client, access, admin_a
    ):
        with on_day(date(2026, 11, 2)):
            subscription_cancel(
                subscription=access.subscription,
                channel=CancellationChannel.PORTAL,
                registered_by=admin_a,
            )

        with clock_at(ON_THE_LAST_DAY):
            deliver(client, postmark_inbound())

        inbound = InboundEmail.objects.get()
        assert inbound.reason == InboundEmailReason.NOT_CANCELLABLE
        assert Cancellation.objects.count() == 1

    def test_it_keeps_for_review_a_message_for_a_closed_access(
        self, client, access, tcd
    ):
        with on_day(date(2026, 11, 2)):
            subscription_close(
                subscription=access.subscription,
                closed_by=tcd,
                reason=ClosureReason.BREACH,
            )

        with clock_at(ON_THE_LAST_DAY):
            deliver(client, postmark_inbound())

        assert InboundEmail.objects.get().reason == InboundEmailReason.NOT_CANCELLABLE

    @pytest.mark.parametrize(
        "payload",
        [
            postmark_inbound(sender="an.peeters"),
            {
                **postmark_inbound(),
                "FromFull": {"Email": "", "Name": "", "MailboxHash": ""},
            },
            {"RawEmail": "From: An Peeters <>\r\nSubject: Opzegging\r\n\r\nStop.\r\n"},
            "Opzegging gent.officier1, zonder JSON",
        ],
        ids=["address-without-domain", "empty-address", "raw-email", "not-json"],
    )
    def test_it_keeps_a_payload_it_cannot_read_for_review(
        self, client, access, payload
    ):
        with clock_at(ON_THE_LAST_DAY):
            response = deliver(client, payload)

        assert response.status_code == 200
        inbound = InboundEmail.objects.get()
        assert inbound.status == InboundEmailStatus.REVIEW
        assert inbound.reason == InboundEmailReason.UNPARSEABLE
        assert inbound.received_at == ON_THE_LAST_DAY
        assert "Opzegging" in inbound.body_text
        assert not Cancellation.objects.exists()

    def test_it_keeps_an_unreadable_payload_delivered_twice_once(self, client, access):
        payload = postmark_inbound(sender="an.peeters")

        with clock_at(ON_THE_LAST_DAY):
            deliver(client, payload)
            deliver(client, payload)

        assert InboundEmail.objects.count() == 1

    def test_it_refuses_a_post_without_the_webhook_secret(self, client, access):
        with clock_at(ON_THE_LAST_DAY), nothing_written():
            response = deliver(
                client,
                postmark_inbound(),
                authorization="Basic " + base64.b64encode(b"inbound:guess").decode(),
            )

        assert response.status_code == 400


class TestDecision:
    """The same rules through ``subscriptions.inbound``, whatever the provider."""

    def test_it_registers_a_message_from_an_admin_in_capitals(self, access, admin_a):
        inbound = inbound_email_receive(
            message(sender="An Claes <AN.PEETERS@STAD.GENT.EXAMPLE.BE>")
        )

        assert inbound.status == InboundEmailStatus.REGISTERED
        assert inbound.sender_address == "an.peeters@stad.gent.example.be"
        assert inbound.sender_name == "An Claes"
        assert inbound.cancellation.registered_by == admin_a
        assert inbound.cancellation.stop_date == date(2026, 12, 31)

    def test_it_dates_the_cancellation_by_the_message_arrival(self, access):
        with on_day(date(2026, 11, 20)):
            inbound = inbound_email_receive(message(received_at=JUST_AFTER_MIDNIGHT))

        assert inbound.cancellation.received_at == JUST_AFTER_MIDNIGHT
        assert inbound.cancellation.stop_date == date(2027, 12, 31)

    @pytest.mark.parametrize(
        ("values", "reason"),
        [
            (
                {"authentication": Authentication.FAIL},
                InboundEmailReason.AUTHENTICATION_FAILED,
            ),
            (
                {"authentication": Authentication.NONE},
                InboundEmailReason.AUTHENTICATION_FAILED,
            ),
            (
                {"sender": "sofie.maes@ibz.example.be"},
                InboundEmailReason.UNKNOWN_SENDER,
            ),
            ({"subject": "", "text": ""}, InboundEmailReason.NO_ACCOUNT),
            (
                {
                    "subject": "Opzegging",
                    "text": "toegang gent.officier1 en gent.basis1",
                },
                InboundEmailReason.SEVERAL_ACCOUNTS,
            ),
            (
                {"subject": "Opzegging", "text": "Stop liege.officier1."},
                InboundEmailReason.OTHER_ORGANISATION,
            ),
        ],
    )
    def test_it_queues_for_review_with_the_reason(
        self, access, cell, admin_b, organisation_a, values, reason
    ):
        factories.base_package_account(
            organisation=organisation_a,
            activation_date=date(2026, 1, 1),
            username="gent.basis1",
        )
        additional_access(
            admin=admin_b,
            cell=cell,
            activation_date=date(2026, 1, 1),
            username="liege.officier1",
        )

        inbound = inbound_email_receive(message(**values))

        assert (inbound.status, inbound.reason) == (InboundEmailStatus.REVIEW, reason)
        assert inbound.cancellation is None

    def test_it_does_not_take_an_inactive_admin_for_an_admin(self, access, admin_a):
        admin_a.is_active = False
        admin_a.save()

        inbound = inbound_email_receive(message())

        assert inbound.reason == InboundEmailReason.UNKNOWN_SENDER

    def test_it_processes_the_same_message_once(self, access):
        first = inbound_email_receive(message())
        second = inbound_email_receive(message(received_at=JUST_AFTER_MIDNIGHT))

        assert first.pk == second.pk
        assert Cancellation.objects.count() == 1
        assert second.cancellation.received_at == ON_THE_LAST_DAY

    def test_it_processes_a_message_stored_before_a_crash(self, access):
        inbound, _created = inbound_email_store(message())
        assert inbound.status == InboundEmailStatus.RECEIVED

        assert tasks.inbound_email_review() == 1
        assert tasks.inbound_email_review() == 0

        inbound.refresh_from_db()
        assert inbound.status == InboundEmailStatus.REGISTERED
        assert inbound.cancellation.received_at == ON_THE_LAST_DAY

    @pytest.mark.parametrize(
        ("headers", "spam", "verdict"),
        [
            (DMARC_PASS, False, Authentication.PASS),
            (
                [
                    (
                        "Authentication-Results",
                        "inbound.postmarkapp.com; spf=pass; dkim=pass; dmarc=none",
                    )
                ],
                False,
                Authentication.PASS,
            ),
            # Written by the sender, not by the provider: not trusted.
            (
                [("Authentication-Results", "mx.forged.example; dmarc=pass")],
                False,
                Authentication.NONE,
            ),
            # A forged header below the provider's own counts for nothing.
            (
                [
                    *SPF_FAIL,
                    ("Authentication-Results", "inbound.postmarkapp.com; dmarc=pass"),
                ],
                False,
                Authentication.FAIL,
            ),
            (SPF_PASS, False, Authentication.PASS),
            ([("Received-SPF", "pass (mx: domain designates sender)")], False, "pass"),
            (SPF_FAIL, False, Authentication.FAIL),
            (
                [
                    (
                        "Authentication-Results",
                        "inbound.postmarkapp.com; spf=pass; dkim=fail",
                    )
                ],
                False,
                "fail",
            ),
            ([("Received-SPF", "Softfail (domain in transition)")], False, "fail"),
            (DMARC_PASS, True, Authentication.FAIL),
            ([], False, Authentication.NONE),
        ],
    )
    def test_it_trusts_the_sender_only_when_the_provider_vouches(
        self, headers, spam, verdict
    ):
        assert authentication_verdict(headers, spam_detected=spam) == verdict


class TestReviewQueue:
    @pytest.fixture
    def waiting(self, access):
        """A colleague's cancellation from a private address, on the last day."""
        return inbound_email_receive(
            message(sender="An Peeters <an.peeters@thuis.example.com>")
        )

    def test_it_registers_the_cancellation_as_received_when_the_message_arrived(
        self, waiting, access, tcd
    ):
        assert waiting.reason == InboundEmailReason.UNKNOWN_SENDER

        with on_day(date(2026, 11, 20)):
            inbound_email_resolve(
                inbound=waiting, reviewed_by=tcd, username="GENT.OFFICIER1"
            )

        waiting.refresh_from_db()
        assert waiting.status == InboundEmailStatus.RESOLVED
        assert waiting.reviewed_by == tcd
        cancellation = waiting.cancellation
        assert cancellation.subscription == access.subscription
        assert cancellation.channel == CancellationChannel.TCD
        assert cancellation.registered_by == tcd
        assert cancellation.received_at == ON_THE_LAST_DAY
        assert cancellation.stop_date == date(2026, 12, 31)

    def test_it_closes_a_message_with_a_note(self, waiting, tcd):
        with on_day(date(2026, 11, 20)):
            inbound_email_resolve(
                inbound=waiting,
                reviewed_by=tcd,
                note="  Nagevraagd: de toegang blijft behouden.  ",
            )

        waiting.refresh_from_db()
        assert waiting.status == InboundEmailStatus.RESOLVED
        assert waiting.review_note == "Nagevraagd: de toegang blijft behouden."
        assert waiting.cancellation is None
        assert not Cancellation.objects.exists()

    def test_it_asks_why_a_message_is_closed_without_a_cancellation(self, waiting, tcd):
        with nothing_written(), pytest.raises(ValidationError) as refused:
            inbound_email_resolve(inbound=waiting, reviewed_by=tcd, note="  ")

        assert set(refused.value.message_dict) == {"note"}

    def test_it_refuses_an_unknown_user_name(self, waiting, tcd):
        with nothing_written(), pytest.raises(ValidationError) as refused:
            inbound_email_resolve(
                inbound=waiting, reviewed_by=tcd, username="gent.officier9"
            )

        assert set(refused.value.message_dict) == {"username"}

    def test_it_settles_a_message_once(self, waiting, tcd):
        inbound_email_resolve(inbound=waiting, reviewed_by=tcd, note="Spam.")

        with nothing_written(), pytest.raises(ValidationError) as refused:
            inbound_email_resolve(inbound=waiting, reviewed_by=tcd, note="Again.")

        assert refused.value.code == "done"

    @pytest.mark.parametrize("someone", ["admin_a", "cell"])
    def test_it_lets_only_tcd_settle_a_message(self, waiting, someone, request):
        user = request.getfixturevalue(someone)

        with nothing_written(), pytest.raises(ValidationError) as refused:
            inbound_email_resolve(
                inbound=waiting, reviewed_by=user, username="gent.officier1"
            )

        assert refused.value.code == "wrong_role"

    def test_it_shows_tcd_the_waiting_messages_with_their_reason(
        self, client, waiting, tcd
    ):
        client.force_login(tcd)

        response = client.get(reverse("subscriptions:inbound_review"))

        assert response.status_code == 200
        assert [inbound for inbound, _form in response.context["rows"]] == [waiting]
        assert b"an.peeters@thuis.example.com" in response.content
        assert b"Opzegging gent.officier1" in response.content

    def test_it_registers_the_cancellation_from_the_queue(self, client, waiting, tcd):
        client.force_login(tcd)

        with on_day(date(2026, 11, 20)):
            response = client.post(
                reverse("subscriptions:inbound_review"),
                {
                    "inbound": waiting.pk,
                    f"inbound-{waiting.pk}-username": "gent.officier1",
                    f"inbound-{waiting.pk}-note": "",
                },
            )

        assert response.status_code == 302
        waiting.refresh_from_db()
        assert waiting.status == InboundEmailStatus.RESOLVED
        assert waiting.cancellation.received_at == ON_THE_LAST_DAY

    @pytest.mark.parametrize("someone", ["admin_a", "admin_b", "cell"])
    def test_it_keeps_the_queue_from_anyone_but_tcd(
        self, client, waiting, someone, request
    ):
        client.force_login(request.getfixturevalue(someone))

        get = client.get(reverse("subscriptions:inbound_review"))
        post = client.post(
            reverse("subscriptions:inbound_review"),
            {"inbound": waiting.pk, f"inbound-{waiting.pk}-note": "Weg ermee."},
        )

        assert (get.status_code, post.status_code) == (403, 403)
        waiting.refresh_from_db()
        assert waiting.status == InboundEmailStatus.REVIEW
