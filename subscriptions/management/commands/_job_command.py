from datetime import date

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from subscriptions.jobs import JOBS


class JobCommand(BaseCommand):
    """A lifecycle job run by hand: ``--date`` to run it as of another day
    (catch-up, tests), ``--dry-run`` to print what it would do."""

    job_names: tuple[str, ...] = ()

    def add_arguments(self, parser):
        parser.add_argument(
            "--date",
            help="Run as of this day (YYYY-MM-DD); today in Brussels by default.",
        )
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="Print what would be done; change nothing.",
        )

    def handle(self, *args, **options):
        try:
            as_of = date.fromisoformat(options["date"]) if options["date"] else None
        except ValueError as error:
            raise CommandError(f"--date takes a day as YYYY-MM-DD: {error}") from error
        as_of = as_of or timezone.localdate()
        for name in self.job_names:
            job = JOBS[name]()
            if options["dry_run"]:
                items = job.plan(as_of)
                self.stdout.write(f"{name} as of {as_of}: {len(items)} to do")
                for item in items:
                    self.stdout.write(f"  would {item}")
                continue
            done = job.run(as_of, progress=self._progress)
            self.stdout.write(self.style.SUCCESS(f"{name} as of {as_of}: {done} done"))

    def _progress(self, number, total, item):
        if total >= 20 and number % max(1, total // 20) and number != total:
            return
        self.stdout.write(f"  [{number}/{total}] {item}")
