from datetime import date

from celery import shared_task
from django.utils import timezone

from .jobs import JOBS


@shared_task(acks_late=True)
def job_run(name, as_of=None):
    """Run one lifecycle job as of a day (ISO format), today in Brussels by default."""
    day = date.fromisoformat(as_of) if as_of else timezone.localdate()
    return JOBS[name]().run(day)


@shared_task(acks_late=True)
def renewals_run(as_of=None):
    """Renew what is due, then invoice the renewals, in that order."""
    return job_run("renew-subscriptions", as_of) + job_run("invoice-renewals", as_of)


@shared_task(acks_late=True)
def inbound_email_review():
    """Process inbound messages stored but not processed (a crash half-way)."""
    from .inbound import inbound_emails_process_pending

    return inbound_emails_process_pending()
