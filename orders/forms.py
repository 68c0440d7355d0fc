from django import forms
from django.utils.translation import gettext_lazy as _

from .services import MAXIMUM_QUANTITY


class AccessRequestForm(forms.Form):
    quantity = forms.IntegerField(
        label=_("Number of additional accesses"),
        min_value=1,
        max_value=MAXIMUM_QUANTITY,
        error_messages={"min_value": _("Ask for at least one access.")},
    )
    motivation = forms.CharField(
        label=_("Motivation"),
        widget=forms.Textarea(attrs={"rows": 4}),
        error_messages={
            "required": _("Say why the organisation needs these accesses.")
        },
        help_text=_(
            "Who needs ICMS, for which tasks, and why the base package is not enough."
        ),
    )
    phone = forms.CharField(label=_("Your phone number"), max_length=30, required=False)
    function = forms.CharField(label=_("Your function"), max_length=100, required=False)


class DecisionForm(forms.Form):
    ISSUE = "issue"
    REFUSE = "refuse"

    decision = forms.ChoiceField(
        label=_("Decision"),
        choices=[
            (ISSUE, _("Eligible: send the order form")),
            (REFUSE, _("Not eligible: refuse")),
        ],
        widget=forms.RadioSelect,
    )
    quantity = forms.IntegerField(
        label=_("Accesses on the order form"),
        min_value=1,
        max_value=MAXIMUM_QUANTITY,
        required=False,
    )
    message = forms.CharField(
        label=_("Message to the organisation"),
        widget=forms.Textarea(attrs={"rows": 3}),
        required=False,
    )
    reason = forms.CharField(
        label=_("Reason for the refusal"),
        widget=forms.Textarea(attrs={"rows": 3}),
        required=False,
        help_text=_("Shown to the organisation in the portal and in the email."),
    )

    def clean(self):
        cleaned = super().clean()
        if (
            cleaned.get("decision") == self.REFUSE
            and not (cleaned.get("reason") or "").strip()
        ):
            self.add_error(
                "reason",
                _("Give the reason for the refusal; the organisation will read it."),
            )
        return cleaned


class OrderLineForm(forms.Form):
    first_name = forms.CharField(label=_("First name"), max_length=100, required=False)
    last_name = forms.CharField(label=_("Last name"), max_length=100, required=False)
    email = forms.EmailField(label=_("Email"), required=False)
    function = forms.CharField(label=_("Function"), max_length=100, required=False)
    training_included = forms.BooleanField(label=_("Training"), required=False)


OrderLineFormSet = forms.formset_factory(OrderLineForm, extra=0)


class BillingForm(forms.Form):
    billing_name = forms.CharField(label=_("Name on the invoice"), max_length=200)
    billing_street = forms.CharField(label=_("Street and number"), max_length=200)
    billing_postcode = forms.CharField(label=_("Postcode"), max_length=10)
    billing_city = forms.CharField(label=_("City"), max_length=100)
    billing_email = forms.EmailField(label=_("Billing email"))
    billing_vat_number = forms.CharField(
        label=_("VAT number"), max_length=14, required=False
    )
    purchase_order_reference = forms.CharField(
        label=_("Your purchase order or reference"),
        max_length=100,
        required=False,
        help_text=_("Printed on the invoice and carried in the e-invoice."),
    )
    conditions_accepted = forms.BooleanField(
        label=_(
            "I accept the conditions of use of ICMS for the accesses on this form."
        ),
        required=False,
    )

    @classmethod
    def initial_for(cls, organisation):
        return {
            "billing_name": organisation.legal_name,
            "billing_street": organisation.street,
            "billing_postcode": organisation.postcode,
            "billing_city": organisation.city,
            "billing_email": organisation.billing_email,
            "billing_vat_number": organisation.vat_number,
        }
