from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .models import DepartureOutcome

DATE_INPUT = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class UpgradeRequestForm(forms.Form):
    reason = forms.CharField(
        label=_("Why does the holder need the administrator level?"),
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("The ICMS cell reads this when it decides."),
    )


class UpgradeDecisionForm(forms.Form):
    APPROVE = "approve"
    REFUSE = "refuse"

    decision = forms.ChoiceField(
        label=_("Decision"),
        choices=[
            (APPROVE, _("Approve: the account becomes administrator")),
            (REFUSE, _("Refuse")),
        ],
        widget=forms.RadioSelect,
    )
    reason = forms.CharField(
        label=_("Reason for the refusal"),
        widget=forms.Textarea(attrs={"rows": 2}),
        required=False,
        help_text=_("Sent to the organisation's admins."),
    )


class DepartureForm(forms.Form):
    left_on = forms.DateField(label=_("The holder left on"), widget=DATE_INPUT)
    outcome = forms.ChoiceField(
        label=_("What becomes of the access?"),
        choices=DepartureOutcome.choices,
        widget=forms.RadioSelect,
    )
    successor_first_name = forms.CharField(
        label=_("Successor's first name"), max_length=100, required=False
    )
    successor_last_name = forms.CharField(
        label=_("Successor's last name"), max_length=100, required=False
    )
    # Checked by the service, with the other details of the successor, so that
    # every missing or wrong detail shows at once.
    successor_email = forms.CharField(
        label=_("Successor's email"),
        max_length=254,
        required=False,
        widget=forms.EmailInput,
    )
    successor_function = forms.CharField(
        label=_("Successor's function"), max_length=100, required=False
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["left_on"].initial = timezone.localdate()


YES_NO = [("yes", _("Yes")), ("no", _("No"))]


def _yes(value):
    return value == "yes"


class ReviewLineForm(forms.Form):
    """One account of the yearly review, with prefix ``account-<pk>``."""

    still_needed = forms.TypedChoiceField(
        label=_("Still needed?"),
        choices=YES_NO,
        coerce=_yes,
        widget=forms.RadioSelect,
        initial="yes",
    )
    details_correct = forms.TypedChoiceField(
        label=_("Holder's details right?"),
        choices=YES_NO,
        coerce=_yes,
        widget=forms.RadioSelect,
        initial="yes",
    )
    note = forms.CharField(
        label=_("Note"),
        widget=forms.Textarea(attrs={"rows": 1}),
        required=False,
        help_text=_("What is wrong, or anything the ICMS cell should know."),
    )

    def __init__(self, *args, account, **kwargs):
        self.account = account
        super().__init__(*args, prefix=f"account-{account.pk}", **kwargs)
