from django.conf import settings
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views import defaults, i18n
from django.views.decorators.http import require_POST

from audit.services import audit_record
from icms_portal.forms import form_add_service_error

from .forms import EmailAuthenticationForm, InvitationForm, ProfileForm
from .invitations import portal_user_invite
from .models import Role
from .permissions import client_address, role_required

HOME_BY_ROLE = {
    Role.ORGANISATION_ADMIN: "orders:request_list",
    Role.ICMS_CELL: "orders:cell_queue",
    Role.TCD: "orders:tcd_workbench",
}


def home(request):
    if not request.user.is_authenticated:
        return redirect("accounts:login")
    return redirect(HOME_BY_ROLE[request.user.role])


class LoginView(auth_views.LoginView):
    template_name = "accounts/login.html"
    authentication_form = EmailAuthenticationForm
    redirect_authenticated_user = True

    def form_valid(self, form):
        response = super().form_valid(form)
        user = form.get_user()
        audit_record(
            action="login.succeeded",
            actor=user,
            organisation=user.organisation,
            client_address=client_address(self.request),
        )
        return response

    def form_invalid(self, form):
        audit_record(
            action="login.failed",
            summary=(form.data.get("username") or "")[:200],
            client_address=client_address(self.request),
        )
        return super().form_invalid(form)


@role_required(*Role.values)
def invite(request):
    """Invite a colleague: they get a one-time link to choose their password."""
    form = InvitationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            # Everyone invites colleagues of their own role (and organisation).
            user = portal_user_invite(
                invited_by=request.user,
                role=request.user.role,
                organisation=request.user.organisation,
                client_address=client_address(request),
                **form.cleaned_data,
            )
        except ValidationError as error:
            form_add_service_error(form, error)
        else:
            messages.success(
                request,
                _("%(email)s is invited and will choose a password through the link.")
                % {"email": user.email},
            )
            return redirect("accounts:invite")
    return render(request, "accounts/invite.html", {"form": form})


@login_required
def profile(request):
    form = ProfileForm(request.POST or None, instance=request.user)
    if request.method == "POST" and form.is_valid():
        form.save()
        messages.success(request, _("Your profile is saved."))
        return redirect("accounts:profile")
    return render(request, "accounts/profile.html", {"form": form})


def page_not_found(request, exception):
    """The 404 page. A logged-in person reaching an object that is not theirs
    sees the same page as for one that does not exist, and the attempt is kept
    in the audit log."""
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        audit_record(
            action="permission.not_found",
            actor=user,
            organisation=user.organisation,
            summary=request.path[:300],
            client_address=client_address(request),
            data={"method": request.method, "path": request.path[:500]},
        )
    return defaults.page_not_found(request, exception)


class LogoutView(auth_views.LogoutView):
    def post(self, request, *args, **kwargs):
        if request.user.is_authenticated:
            audit_record(
                action="logout",
                actor=request.user,
                organisation=request.user.organisation,
                client_address=client_address(request),
            )
        return super().post(request, *args, **kwargs)


@require_POST
def language_set(request):
    """The footer's language switch. For a logged-in person it changes the
    language of their profile, which the portal and their emails follow."""
    language = request.POST.get("language", "")
    if request.user.is_authenticated and language in dict(settings.LANGUAGES):
        request.user.language = language
        request.user.save(update_fields=["language"])
    return i18n.set_language(request)
