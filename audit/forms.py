from django import forms
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from accounts.models import Organisation

from .selectors import audit_actions

DATE_INPUT = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class AuditFilterForm(forms.Form):
    action = forms.ChoiceField(label=_("Action"), required=False)
    organisation = forms.ModelChoiceField(
        label=_("Organisation"), queryset=Organisation.objects.all(), required=False
    )
    actor = forms.CharField(
        label=_("Who (email contains)"), required=False, max_length=200
    )
    since = forms.DateField(
        label=pgettext_lazy("date range start", "From"),
        required=False,
        widget=DATE_INPUT,
    )
    until = forms.DateField(
        label=pgettext_lazy("date range end", "To"),
        required=False,
        widget=DATE_INPUT,
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["action"].choices = [("", _("All actions"))] + [
            (action, action) for action in audit_actions()
        ]

    def clean(self):
        cleaned = super().clean()
        since, until = cleaned.get("since"), cleaned.get("until")
        if since and until and since > until:
            self.add_error("until", _("The end comes after the start."))
        return cleaned
