"""The outbox: emails written with the action, sent once after it commits."""

import threading
import time
from datetime import datetime, timedelta
from unittest import mock

import pytest
import time_machine
from django.core import mail
from django.core.mail.backends.base import BaseEmailBackend
from django.core.mail.backends.locmem import EmailBackend as MemoryBackend
from django.db import connection
from django.utils import timezone

from notifications import tasks
from notifications.models import OutgoingEmail, OutgoingEmailStatus
from notifications.services import (
    CLAIM_EXPIRY,
    email_queue,
    outgoing_email_claim,
    outgoing_email_flush,
    outgoing_email_send,
)
from orders.models import AccessRequest
from subscriptions.periods import BRUSSELS

from . import factories


class FailingBackend(BaseEmailBackend):
    """A mail server that refuses every connection."""

    def send_messages(self, email_messages):
        raise ConnectionRefusedError("The mail server refused the connection.")


class SlowBackend(MemoryBackend):
    """A mail server that takes its time, so two senders overlap."""

    def send_messages(self, email_messages):
        time.sleep(0.3)
        return super().send_messages(email_messages)


def outgoing_email(**values):
    return OutgoingEmail.objects.create(
        **{
            "key": "access_request.submitted:1",
            "template": "access_request_submitted",
            "language": "en",
            "to": ["icms-cell@example.org"],
            "subject": "New request for additional ICMS accesses",
            "body_text": "Stad Gent asks for 2 accesses.\n",
            "body_html": "<p>Stad Gent asks for 2 accesses.</p>",
            **values,
        }
    )


@pytest.fixture
def mail_server_down(settings):
    settings.EMAIL_BACKEND = f"{__name__}.FailingBackend"


@pytest.mark.django_db
class TestSending:
    def test_it_sends_a_pending_email_and_marks_it_sent(self):
        email = outgoing_email()

        assert outgoing_email_send(email_pk=email.pk) is True

        [message] = mail.outbox
        assert message.subject == "New request for additional ICMS accesses"
        assert message.to == ["icms-cell@example.org"]
        assert message.alternatives[0][1] == "text/html"
        email.refresh_from_db()
        assert email.status == OutgoingEmailStatus.SENT
        assert email.attempts == 1
        assert email.sent_at is not None

    def test_it_sends_an_email_once_when_asked_twice(self):
        email = outgoing_email()

        first = outgoing_email_send(email_pk=email.pk)
        second = outgoing_email_send(email_pk=email.pk)

        assert (first, second) == (True, False)
        assert len(mail.outbox) == 1
        email.refresh_from_db()
        assert email.attempts == 1

    def test_it_lets_one_caller_claim_an_email(self):
        email = outgoing_email()

        assert outgoing_email_claim(email_pk=email.pk) is True
        assert outgoing_email_claim(email_pk=email.pk) is False
        email.refresh_from_db()
        assert email.status == OutgoingEmailStatus.SENDING

    def test_it_leaves_a_failed_email_pending_with_its_error(self, mail_server_down):
        email = outgoing_email()

        with pytest.raises(ConnectionRefusedError):
            outgoing_email_send(email_pk=email.pk)

        email.refresh_from_db()
        assert email.status == OutgoingEmailStatus.PENDING
        assert email.attempts == 1
        assert email.last_error == (
            "ConnectionRefusedError: The mail server refused the connection."
        )
        assert email.claimed_at is None
        assert mail.outbox == []

    def test_it_counts_every_failed_attempt(self, mail_server_down):
        email = outgoing_email()

        for _attempt in range(3):
            with pytest.raises(ConnectionRefusedError):
                outgoing_email_send(email_pk=email.pk)

        email.refresh_from_db()
        assert (email.status, email.attempts) == (OutgoingEmailStatus.PENDING, 3)

    def test_it_sends_a_failed_email_once_the_server_is_back(self, settings):
        email = outgoing_email()
        settings.EMAIL_BACKEND = f"{__name__}.FailingBackend"
        with pytest.raises(ConnectionRefusedError):
            outgoing_email_send(email_pk=email.pk)
        settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"

        first_flush = outgoing_email_flush()
        second_flush = outgoing_email_flush()

        assert (first_flush, second_flush) == (1, 0)
        assert len(mail.outbox) == 1
        email.refresh_from_db()
        assert email.status == OutgoingEmailStatus.SENT
        assert email.attempts == 2
        assert email.last_error == ""

    def test_it_flushes_every_pending_email_and_skips_the_rest(self):
        pending = [outgoing_email(key=f"pending:{number}") for number in range(3)]
        outgoing_email(key="sent", status=OutgoingEmailStatus.SENT)
        outgoing_email(
            key="being-sent",
            status=OutgoingEmailStatus.SENDING,
            claimed_at=timezone.now(),
        )

        assert outgoing_email_flush() == 3

        assert len(mail.outbox) == 3
        assert set(
            OutgoingEmail.objects.filter(status=OutgoingEmailStatus.SENT).values_list(
                "key", flat=True
            )
        ) == {email.key for email in pending} | {"sent"}

    def test_it_keeps_flushing_after_one_email_fails(self, settings):
        outgoing_email(key="first")
        outgoing_email(key="second")
        settings.EMAIL_BACKEND = f"{__name__}.FailingBackend"

        assert outgoing_email_flush() == 0

        assert set(OutgoingEmail.objects.values_list("attempts", flat=True)) == {1}

    def test_it_takes_back_an_email_whose_sender_died(self):
        with time_machine.travel(datetime(2027, 3, 1, 9, tzinfo=BRUSSELS)):
            email = outgoing_email()
            assert outgoing_email_claim(email_pk=email.pk)

        not_yet = datetime(2027, 3, 1, 9, tzinfo=BRUSSELS) + CLAIM_EXPIRY
        with time_machine.travel(not_yet - timedelta(seconds=5), tick=False):
            assert outgoing_email_flush() == 0
        with time_machine.travel(not_yet + timedelta(seconds=5), tick=False):
            assert outgoing_email_flush() == 1

        assert len(mail.outbox) == 1

    def test_it_runs_the_task_through_the_same_claim(self):
        email = outgoing_email()

        tasks.outgoing_email_send.delay(email.pk)
        tasks.outgoing_email_send.delay(email.pk)
        tasks.outgoing_email_flush.delay()

        assert len(mail.outbox) == 1


@pytest.mark.django_db
class TestQueueing:
    def test_it_makes_one_row_for_the_same_key_queued_twice(
        self, admin_a, django_capture_on_commit_callbacks
    ):
        access_request = factories.submitted_access_request(admin=admin_a)
        arguments = {
            "key": f"reminder:{access_request.pk}",
            "template": "access_request_submitted",
            "to": ["icms-cell@example.org"],
            "language": "en",
            "context": {
                "access_request": access_request,
                "organisation": admin_a.organisation,
            },
        }

        with django_capture_on_commit_callbacks(execute=True):
            first = email_queue(**arguments)
            second = email_queue(**{**arguments, "to": ["someone@example.org"]})

        assert first.pk == second.pk
        assert OutgoingEmail.objects.filter(key=arguments["key"]).count() == 1
        assert [message.to for message in mail.outbox] == [["icms-cell@example.org"]]

    def test_it_stores_the_subject_on_one_line_and_both_bodies(self, admin_a, cell):
        factories.issued_order_form(admin=admin_a, cell=cell)

        email = OutgoingEmail.objects.get(template="order_form_issued")

        assert email.subject.strip()
        assert "\n" not in email.subject
        assert "  " not in email.subject
        assert email.body_text.strip()
        assert email.body_text.endswith("\n")
        assert "<" in email.body_html

    def test_it_keeps_an_email_pending_when_the_server_is_down(
        self, admin_a, mail_server_down, django_capture_on_commit_callbacks
    ):
        with django_capture_on_commit_callbacks(execute=True):
            access_request = factories.submitted_access_request(admin=admin_a)

        # The action itself went through; only its email waits.
        assert AccessRequest.objects.filter(pk=access_request.pk).exists()
        email = OutgoingEmail.objects.get()
        assert email.status == OutgoingEmailStatus.PENDING
        assert email.attempts >= 1
        assert "ConnectionRefusedError" in email.last_error
        assert mail.outbox == []

    def test_it_keeps_an_email_pending_when_the_broker_is_away(
        self, admin_a, django_capture_on_commit_callbacks
    ):
        broker_away = mock.patch.object(
            tasks.outgoing_email_send,
            "delay",
            side_effect=ConnectionError("Redis is not answering."),
        )

        with broker_away, django_capture_on_commit_callbacks(execute=True):
            factories.submitted_access_request(admin=admin_a)

        email = OutgoingEmail.objects.get()
        assert (email.status, email.attempts) == (OutgoingEmailStatus.PENDING, 0)
        assert mail.outbox == []
        assert outgoing_email_flush() == 1
        assert len(mail.outbox) == 1


@pytest.mark.django_db(transaction=True)
def test_it_sends_once_when_two_workers_take_the_same_email(settings):
    settings.EMAIL_BACKEND = f"{__name__}.SlowBackend"
    email = outgoing_email()
    start = threading.Barrier(2)
    results = []

    def send_in_own_connection():
        try:
            start.wait(timeout=10)
            results.append(outgoing_email_send(email_pk=email.pk))
        finally:
            connection.close()

    workers = [threading.Thread(target=send_in_own_connection) for _ in range(2)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=30)

    assert sorted(results) == [False, True]
    assert len(mail.outbox) == 1
    email.refresh_from_db()
    assert (email.status, email.attempts) == (OutgoingEmailStatus.SENT, 1)
