from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .models import ContractingAuthority, FrameworkAgreement

DATE_INPUT = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class InvoiceRunForm(forms.Form):
    as_of = forms.DateField(label=_("Invoice everything due up to"), widget=DATE_INPUT)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["as_of"].initial = timezone.localdate()


class ContractingAuthorityForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=200)
    short_name = forms.CharField(label=_("Short name"), max_length=30, required=False)


class FrameworkAgreementForm(forms.Form):
    contracting_authority = forms.ModelChoiceField(
        label=_("Contracting authority"), queryset=ContractingAuthority.objects.all()
    )
    reference = forms.CharField(label=_("Reference"), max_length=100)
    yearly_price = forms.DecimalField(
        label=_("Yearly price per access (EUR, excluding VAT)"),
        max_digits=10,
        decimal_places=2,
        min_value=0,
    )
    starts_on = forms.DateField(label=_("In force from"), widget=DATE_INPUT)


class PriceAmendmentForm(forms.Form):
    agreement = forms.ModelChoiceField(
        label=_("Framework agreement"), queryset=FrameworkAgreement.objects.all()
    )
    reference = forms.CharField(label=_("Reference of the amendment"), max_length=100)
    yearly_price = forms.DecimalField(
        label=_("New yearly price per access (EUR, excluding VAT)"),
        max_digits=10,
        decimal_places=2,
        min_value=0,
    )
    applies_from = forms.DateField(label=_("Applies from"), widget=DATE_INPUT)


class CreditNoteForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason for the correction"),
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Printed on the credit note."),
    )

    def __init__(self, *args, invoice, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["lines"] = forms.MultipleChoiceField(
            label=_("Lines to credit"),
            choices=[
                (line.pk, f"{line.position}. {line.description}")
                for line in invoice.lines.order_by("position")
            ],
            widget=forms.CheckboxSelectMultiple,
        )
