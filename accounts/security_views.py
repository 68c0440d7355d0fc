"""The second factor, re-authentication and the sensitive changes behind it."""

import time
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST
from django_otp import login as otp_login

from audit.services import audit_record
from notifications.services import email_queue

from . import second_factor
from .permissions import (
    REAUTHENTICATED_AT_SESSION_KEY,
    client_address,
    recent_authentication_required,
)
from .security_forms import EmailChangeForm, ReauthenticationForm, SecondFactorForm

RECOVERY_CODES_SESSION_KEY = "portal_new_recovery_codes"


def _next_url(request, default="home"):
    target = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return default


@login_required
def second_factor_setup(request):
    """Link an authenticator app to the account, then show the recovery codes."""
    user = request.user
    if second_factor.user_has_second_factor(user) and not user.is_verified():
        return redirect("accounts:second_factor_verify")
    device = second_factor.totp_device_pending(user)
    form = SecondFactorForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        codes = second_factor.second_factor_confirm(
            user=user,
            device=device,
            token=form.cleaned_data["token"],
            client_address=client_address(request),
        )
        if codes is None:
            form.add_error(
                "token", _("This code is not valid; check your phone's clock.")
            )
        else:
            device.refresh_from_db()
            otp_login(request, device)
            request.session[RECOVERY_CODES_SESSION_KEY] = codes
            return redirect(
                f"{reverse('accounts:recovery_codes')}?"
                f"{urlencode({'next': _next_url(request, '/')})}"
            )
    return render(
        request,
        "accounts/second_factor_setup.html",
        {
            "form": form,
            "qr_code": second_factor.totp_qr_code(device),
            "secret": second_factor.totp_secret_display(device),
            "next": _next_url(request, ""),
        },
    )


@login_required
def second_factor_verify(request):
    """The second step of a login."""
    user = request.user
    if user.is_verified():
        return redirect(_next_url(request))
    if not second_factor.user_has_second_factor(user):
        return redirect("accounts:second_factor_setup")
    form = SecondFactorForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        device = second_factor.second_factor_match(
            user=user, token=form.cleaned_data["token"]
        )
        if device is None:
            audit_record(
                action="login.second_factor_failed",
                actor=user,
                organisation=user.organisation,
                client_address=client_address(request),
            )
            form.add_error("token", _("This code is not valid; wait for the next one."))
        else:
            otp_login(request, device)
            audit_record(
                action="login.second_factor_confirmed",
                actor=user,
                organisation=user.organisation,
                client_address=client_address(request),
                data={"device": device.name},
            )
            return redirect(_next_url(request))
    return render(
        request,
        "accounts/second_factor_verify.html",
        {"form": form, "next": _next_url(request, "")},
    )


@login_required
def recovery_codes(request):
    """Show freshly made recovery codes, once."""
    codes = request.session.pop(RECOVERY_CODES_SESSION_KEY, None)
    if not codes:
        return redirect("accounts:security")
    return render(
        request,
        "accounts/recovery_codes.html",
        {"codes": codes, "next": _next_url(request, "/")},
    )


@login_required
def security(request):
    return render(
        request,
        "accounts/security.html",
        {"has_second_factor": second_factor.user_has_second_factor(request.user)},
    )


@login_required
def reauthenticate(request):
    form = ReauthenticationForm(request.POST or None, request=request)
    if request.method == "POST" and form.is_valid():
        request.session[REAUTHENTICATED_AT_SESSION_KEY] = time.time()
        return redirect(_next_url(request))
    return render(
        request,
        "accounts/reauthenticate.html",
        {"form": form, "next": _next_url(request, "")},
    )


@login_required
@recent_authentication_required
@require_POST
def recovery_codes_renew(request):
    codes = second_factor.recovery_codes_renew(user=request.user)
    audit_record(
        action="second_factor.recovery_codes_renewed",
        actor=request.user,
        organisation=request.user.organisation,
        client_address=client_address(request),
    )
    request.session[RECOVERY_CODES_SESSION_KEY] = codes
    return redirect("accounts:recovery_codes")


@login_required
@recent_authentication_required
def email_change(request):
    """Change the login address, which is also the address that email
    cancellations are checked against: behind a fresh password and code."""
    user = request.user
    form = EmailChangeForm(request.POST or None, user=user)
    if request.method == "POST" and form.is_valid():
        old = user.email
        with transaction.atomic():
            user.email = form.cleaned_data["email"]
            user.save(update_fields=["email"])
            audit_record(
                action="portal_user.email_changed",
                actor=user,
                subject=user,
                organisation=user.organisation,
                client_address=client_address(request),
                data={"from": old, "to": user.email},
            )
            # Both addresses hear of it, so a stolen session cannot quietly
            # redirect the account.
            email_queue(
                key=f"portal_user.email_changed:{user.pk}:{time.time_ns()}",
                template="email_changed",
                to=[old, user.email],
                language=user.language,
                context={"user": user, "old_email": old},
            )
        messages.success(request, _("Your email address is changed."))
        return redirect("accounts:profile")
    return render(request, "accounts/email_change.html", {"form": form})
