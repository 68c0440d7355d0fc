from django import forms
from django.utils.translation import gettext_lazy as _

from .models import SuspiciousReportStatus


class SuspiciousReportForm(forms.Form):
    description = forms.CharField(
        label=_("What happened?"),
        widget=forms.Textarea(attrs={"rows": 6}),
        help_text=_(
            "What you saw, on which screen or in which message, and what you did. "
            "Never write a password here."
        ),
    )
    happened_at = forms.DateTimeField(
        label=_("When did it happen?"),
        widget=forms.DateTimeInput(
            attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"
        ),
        help_text=_("As near as you know, Belgian time."),
    )
    username = forms.CharField(
        label=_("ICMS account concerned"),
        max_length=150,
        required=False,
        help_text=_("Its ICMS user name, if the situation concerns one."),
    )


class ReportStatusForm(forms.Form):
    status = forms.ChoiceField(
        label=_("New status"), choices=SuspiciousReportStatus.choices
    )
    note = forms.CharField(
        label=_("Note"),
        widget=forms.Textarea(attrs={"rows": 2}),
        required=False,
        help_text=_("Required to close the report."),
    )
