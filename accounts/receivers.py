"""Security events that third-party packages announce by signal."""

from axes.signals import user_locked_out
from django.dispatch import receiver

from audit.services import audit_record

from .permissions import client_address


@receiver(user_locked_out, dispatch_uid="accounts.login_locked_out")
def login_locked_out(sender, request, username, ip_address, **kwargs):
    audit_record(
        action="login.locked_out",
        summary=(username or "")[:200],
        client_address=client_address(request) if request is not None else ip_address,
    )
