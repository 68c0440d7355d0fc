from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from audit.services import audit_record

from .forms import EmailAuthenticationForm, ProfileForm
from .models import Role
from .permissions import client_address

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


@login_required
def profile(request):
    form = ProfileForm(request.POST or None, instance=request.user)
    if request.method == "POST" and form.is_valid():
        form.save()
        messages.success(request, _("Your profile is saved."))
        return redirect("accounts:profile")
    return render(request, "accounts/profile.html", {"form": form})
