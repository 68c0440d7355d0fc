"""Who may open which page.

A page for one role answers 403 to the other roles. An object of another
organisation answers 404, as if it did not exist: an organisation admin learns
nothing of other organisations, not even which ids are taken.
"""

import ipaddress
import time
from functools import wraps
from urllib.parse import urlencode

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _

from audit.services import audit_record

from .models import Role


def client_address(request):
    """The address of the client, as the outermost trusted proxy saw it.

    With ``TRUSTED_PROXY_COUNT`` = 0 (no proxy) it is REMOTE_ADDR. Behind N
    proxies, each appending the address it received the request from to
    X-Forwarded-For, it is the N-th entry from the right: whatever a client puts
    to the left of it is its own claim and ignored, so rotating the header
    gains an attacker nothing.
    """
    remote = request.META.get("REMOTE_ADDR") or None
    count = settings.TRUSTED_PROXY_COUNT
    if count <= 0:
        return remote
    hops = [
        hop.strip()
        for hop in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")
        if hop.strip()
    ]
    if len(hops) < count:
        return remote
    try:
        return str(ipaddress.ip_address(hops[-count]))
    except ValueError:
        return remote


def login_username(request, credentials=None):
    """The account a login attempt is for, as django-axes counts it: the email
    address without regard to case."""
    credentials = credentials or {}
    username = credentials.get("username")
    if username is None and request is not None:
        username = request.POST.get("username", "")
    return (username or "").strip().lower()


def role_required(*roles):
    def decorator(view):
        @wraps(view)
        def wrapper(request, *args, **kwargs):
            user = request.user
            if not user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            if user.role not in roles:
                audit_record(
                    action="permission.denied",
                    actor=user,
                    organisation=user.organisation,
                    summary=request.path[:300],
                    client_address=client_address(request),
                    data={"method": request.method, "path": request.path[:500]},
                )
                raise PermissionDenied
            return view(request, *args, **kwargs)

        return wrapper

    return decorator


organisation_admin_required = role_required(Role.ORGANISATION_ADMIN)
icms_cell_required = role_required(Role.ICMS_CELL)
tcd_required = role_required(Role.TCD)
any_role_required = role_required(*Role.values)
staff_required = role_required(Role.ICMS_CELL, Role.TCD)


def scope_to_user(queryset, user, organisation_field="organisation"):
    """Limit a queryset to what the user's role may see."""
    if user.role == Role.ORGANISATION_ADMIN:
        return queryset.filter(**{organisation_field: user.organisation_id})
    return queryset


REAUTHENTICATED_AT_SESSION_KEY = "portal_reauthenticated_at"


def recent_authentication_required(view):
    """Ask for the password and a second-factor code again before a sensitive
    change, unless the person gave them in the last few minutes."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        at = request.session.get(REAUTHENTICATED_AT_SESSION_KEY)
        if at is None or time.time() - at > settings.REAUTHENTICATION_SECONDS:
            return redirect(
                f"{reverse('accounts:reauthenticate')}?"
                f"{urlencode({'next': request.get_full_path()})}"
            )
        return view(request, *args, **kwargs)

    return wrapper


def role_require(user, *roles):
    """Refuse a step to anyone (or no one) outside ``roles``: the services'
    own check, behind the pages' one."""
    if user is None or user.role not in roles:
        raise ValidationError(
            _("Your role does not allow this step."), code="wrong_role"
        )
