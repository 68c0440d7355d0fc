"""The lifecycle tasks through a real Celery worker and the real Redis broker.

Everywhere else tasks run eagerly, in the test's own thread. Here they are
queued on Redis and run by a worker in another thread, with its own database
connection, as in production.
"""

import time
from datetime import date

import pytest
import redis
from celery.contrib.testing.worker import start_worker
from django.core import mail
from django.db import connections

from icms_portal.celery import app
from notifications.models import OutgoingEmail, OutgoingEmailStatus
from subscriptions import tasks
from subscriptions.models import CancellationChannel, SubscriptionPeriod
from subscriptions.services import subscription_cancel

from .lifecycle_helpers import additional_access

pytestmark = [
    pytest.mark.celery_worker,
    # The worker's connection sees only what this test committed.
    pytest.mark.django_db(transaction=True),
]


def eventually(condition, timeout=20):
    """Wait for the worker to make ``condition`` true."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.1)
    return condition()


@pytest.fixture
def access(admin_a, cell):
    """An access of Stad Gent from 1 January 2026, made before the worker starts."""
    return additional_access(
        admin=admin_a,
        cell=cell,
        activation_date=date(2026, 1, 1),
        username="gent.officier1",
    )


@pytest.fixture
def worker():
    """A worker thread consuming the project's tasks from Redis."""
    broker = app.conf.broker_url
    try:
        redis.Redis.from_url(broker, socket_connect_timeout=2).ping()
        problem = None
    except redis.RedisError as error:
        problem = error
    if problem is not None:
        pytest.fail(
            f"Redis does not answer at {broker} ({problem}). These tests need a real "
            "broker: start Redis (the CI script does) or set CELERY_TEST_BROKER_URL.",
            pytrace=False,
        )

    eager = app.conf.task_always_eager
    app.conf.task_always_eager = False
    try:
        # Messages left by an earlier run that was interrupted.
        app.control.purge()
        with start_worker(app, perform_ping_check=False, shutdown_timeout=30):
            yield
    finally:
        app.conf.task_always_eager = eager
        connections.close_all()


def test_it_renews_an_access_in_the_worker(access, worker):
    renewals = SubscriptionPeriod.objects.filter(
        subscription__account=access, start=date(2027, 1, 1)
    )

    tasks.job_run.delay("renew-subscriptions", "2027-01-01")

    assert eventually(renewals.exists), "The worker made no renewal."
    assert list(renewals.values_list("index", "end")) == [(1, date(2027, 12, 31))]


def test_it_sends_an_outbox_email_from_the_worker(access, admin_a, worker):
    mail.outbox.clear()

    # Committed at once: the email is queued on Redis when it commits.
    cancellation = subscription_cancel(
        subscription=access.subscription,
        channel=CancellationChannel.PORTAL,
        registered_by=admin_a,
    )
    receipt = OutgoingEmail.objects.filter(
        key=f"cancellation.registered:{cancellation.pk}"
    )

    assert eventually(
        lambda: receipt.filter(status=OutgoingEmailStatus.SENT).exists()
    ), "The worker did not send the email."
    assert [message.to for message in mail.outbox if admin_a.email in message.to] == [
        [admin_a.email]
    ]
