from django import forms
from django.contrib.auth import authenticate
from django.utils.translation import gettext_lazy as _

from .models import User
from .second_factor import second_factor_match


class SecondFactorForm(forms.Form):
    token = forms.CharField(
        label=_("Code"),
        max_length=16,
        widget=forms.TextInput(
            attrs={
                "autocomplete": "one-time-code",
                "inputmode": "numeric",
                "autofocus": True,
            }
        ),
        help_text=_("The 6 digits your authenticator app shows, or a recovery code."),
    )


class ReauthenticationForm(forms.Form):
    password = forms.CharField(label=_("Your password"), widget=forms.PasswordInput)
    token = forms.CharField(
        label=_("A code of your authenticator app"),
        max_length=16,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code"}),
    )

    def __init__(self, *args, request, **kwargs):
        self.request = request
        super().__init__(*args, **kwargs)

    def clean(self):
        cleaned = super().clean()
        user = self.request.user
        password = cleaned.get("password")
        if (
            password
            and authenticate(self.request, username=user.email, password=password)
            != user
        ):
            self.add_error("password", _("This is not your password."))
            # The code stays unused: a slip of the password costs no code.
            return cleaned
        token = cleaned.get("token")
        if token and second_factor_match(user=user, token=token) is None:
            self.add_error("token", _("This code is not valid; wait for the next one."))
        return cleaned


class EmailChangeForm(forms.Form):
    email = forms.EmailField(label=_("New email address"))

    def __init__(self, *args, user, **kwargs):
        self.user = user
        super().__init__(*args, **kwargs)

    def clean_email(self):
        email = User.objects.normalize_email(self.cleaned_data["email"]).strip()
        if User.objects.filter(email__iexact=email).exclude(pk=self.user.pk).exists():
            raise forms.ValidationError(
                _("A portal user with this email address already exists.")
            )
        return email
