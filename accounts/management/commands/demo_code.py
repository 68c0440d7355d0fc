"""Print the current second-factor code of a demo login, so the demo can be
walked without an authenticator app. Refuses outside DEBUG."""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice


class Command(BaseCommand):
    help = "Print the current authenticator code of a demo user (DEBUG only)."

    def add_arguments(self, parser):
        parser.add_argument("email")

    def handle(self, *args, email, **options):
        if not settings.DEBUG:
            raise CommandError(
                "demo_code works only with DEBUG on: it would defeat 2FA."
            )
        device = TOTPDevice.objects.filter(
            user__email__iexact=email, confirmed=True
        ).first()
        if device is None:
            raise CommandError(f"{email} has no authenticator linked.")
        totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
        self.stdout.write(f"{totp.token():0{device.digits}d}")
