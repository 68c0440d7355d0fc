from ._job_command import JobCommand


class Command(JobCommand):
    help = (
        "Run the send personal data review reminders job (see subscriptions/jobs.py)."
    )
    job_names = ("send-personal-data-review-reminders",)
