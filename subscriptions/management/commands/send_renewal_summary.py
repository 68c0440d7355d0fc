from ._job_command import JobCommand


class Command(JobCommand):
    help = "Run the send renewal summary job (see subscriptions/jobs.py)."
    job_names = ("send-renewal-summary",)
