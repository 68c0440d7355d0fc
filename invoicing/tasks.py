from celery import shared_task

from . import runs


@shared_task(acks_late=True)
def invoice_run_process(run_pk):
    return runs.invoice_run_process(run_pk=run_pk)


@shared_task(acks_late=True)
def invoice_runs_resume():
    return runs.invoice_runs_resume()
