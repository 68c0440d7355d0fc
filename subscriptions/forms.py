from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from .models import ClosureReason
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


class ClosureForm(forms.Form):
    reason = forms.ChoiceField(
        label=_("Reason"), choices=ClosureReason.choices, widget=forms.RadioSelect
    )
    requested_by = forms.CharField(
        label=pgettext_lazy("closure requester", "Requested by"),
        max_length=200,
        required=False,
        help_text=_("The authority or person who asked for the closure, if any."),
    )
    note = forms.CharField(
        label=_("Note"), widget=forms.Textarea(attrs={"rows": 3}), required=False
    )


class InboundResolveForm(forms.Form):
    username = forms.CharField(
        label=_("Register the cancellation of this ICMS account"),
        max_length=150,
        required=False,
    )
    note = forms.CharField(
        label=_("Or close the message without a cancellation, saying why"),
        widget=forms.Textarea(attrs={"rows": 2}),
        required=False,
    )
