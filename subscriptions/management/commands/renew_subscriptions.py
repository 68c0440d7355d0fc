from ._job_command import JobCommand


class Command(JobCommand):
    help = "Run the renew subscriptions job (see subscriptions/jobs.py)."
    job_names = (
        "renew-subscriptions",
        "invoice-renewals",
    )
