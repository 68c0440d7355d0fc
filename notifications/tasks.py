from celery import shared_task

from . import services


@shared_task(
    bind=True,
    autoretry_for=(Exception,),
    retry_backoff=30,
    retry_backoff_max=3600,
    max_retries=10,
)
def outgoing_email_send(self, email_pk):
    try:
        services.outgoing_email_send(email_pk=email_pk)
    except Exception:
        if self.request.is_eager:
            # Run in the web process (no broker): retrying here would hold the
            # request. The row stays pending and the periodic flush sends it.
            return
        raise


@shared_task
def outgoing_email_flush():
    return services.outgoing_email_flush()
