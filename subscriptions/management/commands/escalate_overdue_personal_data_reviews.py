from ._job_command import JobCommand


class Command(JobCommand):
    help = (
        "Run the escalate overdue personal data reviews job "
        "(see subscriptions/jobs.py)."
    )
    job_names = ("escalate-overdue-personal-data-reviews",)
