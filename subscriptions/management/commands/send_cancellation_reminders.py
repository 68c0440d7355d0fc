from ._job_command import JobCommand


class Command(JobCommand):
    help = "Run the send cancellation reminders job (see subscriptions/jobs.py)."
    job_names = ("send-cancellation-reminders",)
