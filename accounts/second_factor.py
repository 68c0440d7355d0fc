"""The second factor of a portal login: an authenticator app (TOTP), with
single-use recovery codes for the day the phone is lost."""

import base64

import qrcode
import qrcode.image.svg
from django.conf import settings
from django.db import transaction
from django_otp import match_token
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from audit.services import audit_record

AUTHENTICATOR = "authenticator"
RECOVERY = "recovery codes"


def user_has_second_factor(user):
    return TOTPDevice.objects.filter(user=user, confirmed=True).exists()


def totp_device_pending(user):
    """The authenticator being set up, created on first need."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False).first()
    if device is None:
        device = TOTPDevice.objects.create(
            user=user, name=AUTHENTICATOR, confirmed=False
        )
    return device


def totp_qr_code(device):
    """The device's otpauth URL as an SVG data URI, for the page's <img>."""
    svg = qrcode.make(device.config_url, image_factory=qrcode.image.svg.SvgPathImage)
    return "data:image/svg+xml;base64," + base64.b64encode(svg.to_string()).decode()


def totp_secret_display(device):
    """The secret in base32, grouped by four, for typing into an app by hand."""
    secret = base64.b32encode(device.bin_key).decode().rstrip("=")
    return " ".join(secret[index : index + 4] for index in range(0, len(secret), 4))


@transaction.atomic
def second_factor_confirm(*, user, device, token, client_address=None):
    """Finish setting up an authenticator with a code it shows.

    Returns the new recovery codes, which are shown once and never again, or
    None when the code is wrong.
    """
    device = TOTPDevice.objects.select_for_update().get(pk=device.pk, user=user)
    if not device.verify_token((token or "").replace(" ", "")):
        return None
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    TOTPDevice.objects.filter(user=user).exclude(pk=device.pk).delete()
    codes = recovery_codes_renew(user=user)
    audit_record(
        action="second_factor.enrolled",
        actor=user,
        organisation=user.organisation,
        client_address=client_address,
    )
    return codes


def recovery_codes_renew(*, user):
    """Replace the user's recovery codes; the old ones stop working."""
    StaticDevice.objects.filter(user=user).delete()
    device = StaticDevice.objects.create(user=user, name=RECOVERY, confirmed=True)
    codes = [StaticToken.random_token() for _number in range(settings.RECOVERY_CODES)]
    StaticToken.objects.bulk_create(
        StaticToken(device=device, token=code) for code in codes
    )
    return codes


def second_factor_match(*, user, token):
    """The device the code belongs to (a recovery code is used up), or None."""
    token = (token or "").replace(" ", "").strip()
    if not token:
        return None
    return match_token(user, token)


@transaction.atomic
def second_factor_reset(*, user, reset_by, client_address=None):
    """Remove a user's authenticator and recovery codes; they set up anew at
    their next login."""
    TOTPDevice.objects.filter(user=user).delete()
    StaticDevice.objects.filter(user=user).delete()
    audit_record(
        action="second_factor.reset",
        actor=reset_by,
        subject=user,
        organisation=user.organisation,
        client_address=client_address,
    )
