from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .models import BankImportFormat
from .statements import amount_read

DATE_INPUT = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")

# A statement of a year of payments is well under a megabyte.
STATEMENT_MAX_BYTES = 5 * 1024 * 1024


class AmountField(forms.CharField):
    """An amount in euros, written 1234.56, 1234,56 or 1.234,56."""

    def to_python(self, value):
        value = super().to_python(value)
        if value in self.empty_values:
            return None
        amount = amount_read(value)
        if amount is None:
            raise ValidationError(_("Write an amount such as 1234,56."), code="invalid")
        return amount


class PaymentForm(forms.Form):
    amount = AmountField(
        label=_("Amount received (EUR)"),
        widget=forms.TextInput(attrs={"inputmode": "decimal", "maxlength": 20}),
    )
    received_on = forms.DateField(label=_("Received on"), widget=DATE_INPUT)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["received_on"].initial = timezone.localdate()


class BankImportForm(forms.Form):
    # An empty file is refused by the import, with the message of any bad file.
    statement = forms.FileField(
        label=_("Bank statement"),
        allow_empty_file=True,
        help_text=_(
            "CSV with the columns date, amount and communication (and optionally "
            "counterparty name, counterparty account, bank reference), or CODA."
        ),
    )
    format = forms.ChoiceField(
        label=_("Format"),
        choices=BankImportFormat.choices,
        initial=BankImportFormat.CSV,
        widget=forms.RadioSelect,
    )

    def clean_statement(self):
        statement = self.cleaned_data["statement"]
        if statement.size > STATEMENT_MAX_BYTES:
            raise ValidationError(_("The file is larger than 5 MB."), code="too_big")
        return statement


class BankLineResolveForm(forms.Form):
    invoice_number = forms.CharField(
        label=_("This credit pays invoice"),
        max_length=30,
        required=False,
        widget=forms.TextInput(attrs={"placeholder": "INV-2026-000001"}),
    )
    note = forms.CharField(
        label=_("Or close the line without a payment, saying why"),
        widget=forms.Textarea(attrs={"rows": 2}),
        required=False,
    )
