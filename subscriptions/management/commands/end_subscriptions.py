from ._job_command import JobCommand


class Command(JobCommand):
    help = "Run the end subscriptions job (see subscriptions/jobs.py)."
    job_names = ("end-cancelled-subscriptions",)
