from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .services import username_suggest


class IcmsAccountForm(forms.Form):
    username = forms.CharField(label=_("ICMS user name"), max_length=150)
    activation_date = forms.DateField(
        label=_("Activation date"),
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )

    @classmethod
    def for_line(cls, line, data=None):
        return cls(
            data,
            prefix=f"line-{line.pk}",
            initial={
                "username": username_suggest(line),
                "activation_date": timezone.localdate(),
            },
        )
