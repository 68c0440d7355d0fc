from django import forms
from django.conf import settings
from django.contrib.auth.forms import (
    AuthenticationForm,
    PasswordResetForm,
    SetPasswordForm,
)
from django.utils import translation
from django.utils.translation import gettext_lazy as _

from .models import User


class EmailAuthenticationForm(AuthenticationForm):
    username = forms.EmailField(
        label=_("Email address"),
        widget=forms.EmailInput(attrs={"autofocus": True, "autocomplete": "email"}),
    )
    error_messages = {
        "invalid_login": _("This email address and password do not match an account."),
        "inactive": _("This account is no longer active."),
    }


class ProfileForm(forms.ModelForm):
    class Meta:
        model = User
        fields = ["first_name", "last_name", "phone", "function", "language"]


class PasswordResetRequestForm(PasswordResetForm):
    """Django's reset form, but for accounts that never chose a password too:
    an invited person whose link expired asks for a new one here."""

    def get_users(self, email):
        return User.objects.filter(email__iexact=email, is_active=True)

    def send_mail(
        self, subject_template_name, email_template_name, context, *args, **kwargs
    ):
        user = context["user"]
        context = {**context, "site_url": settings.SITE_URL}
        with translation.override(user.language):
            super().send_mail(
                subject_template_name, email_template_name, context, *args, **kwargs
            )


class PasswordChoiceForm(SetPasswordForm):
    """Choosing a password: at least 12 characters, not a common one, not like
    the person's own details; no composition rules (AUTH_PASSWORD_VALIDATORS)."""


class InvitationForm(forms.Form):
    first_name = forms.CharField(label=_("First name"), max_length=100)
    last_name = forms.CharField(label=_("Last name"), max_length=100)
    email = forms.EmailField(label=_("Email address"))
