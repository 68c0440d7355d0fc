from decimal import Decimal

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from stdnum.be import ogm_vcs


class ContractingAuthority(models.Model):
    """IBZ, or another authority with a framework agreement with TCD."""

    name = models.CharField(_("name"), max_length=200, unique=True)
    short_name = models.CharField(_("short name"), max_length=30)

    class Meta:
        verbose_name = _("contracting authority")
        verbose_name_plural = _("contracting authorities")
        ordering = ["name"]

    def __str__(self):
        return self.short_name or self.name


class FrameworkAgreement(models.Model):
    """A contracting authority's agreement with TCD: the yearly price per access."""

    contracting_authority = models.ForeignKey(
        ContractingAuthority, on_delete=models.PROTECT, related_name="agreements"
    )
    reference = models.CharField(_("reference"), max_length=100, unique=True)
    yearly_price = models.DecimalField(
        _("yearly price per access"), max_digits=10, decimal_places=2
    )
    starts_on = models.DateField(_("in force from"))

    class Meta:
        verbose_name = _("framework agreement")
        verbose_name_plural = _("framework agreements")
        ordering = ["contracting_authority", "starts_on"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(yearly_price__gte=0),
                name="agreement_price_not_negative",
            ),
        ]

    def __str__(self):
        return self.reference


class PriceAmendment(models.Model):
    """An agreed change of the yearly price, from a given day on."""

    agreement = models.ForeignKey(
        FrameworkAgreement, on_delete=models.PROTECT, related_name="amendments"
    )
    reference = models.CharField(_("reference"), max_length=100)
    yearly_price = models.DecimalField(
        _("yearly price per access"), max_digits=10, decimal_places=2
    )
    applies_from = models.DateField(_("applies from"))

    class Meta:
        verbose_name = _("price amendment")
        verbose_name_plural = _("price amendments")
        ordering = ["agreement", "applies_from"]
        constraints = [
            models.UniqueConstraint(
                fields=["agreement", "applies_from"], name="one_amendment_per_day"
            ),
            models.CheckConstraint(
                condition=models.Q(yearly_price__gte=0),
                name="amendment_price_not_negative",
            ),
        ]

    def __str__(self):
        return self.reference


class InvoiceKind(models.TextChoices):
    INVOICE = "invoice", _("Invoice")
    CREDIT_NOTE = "credit_note", _("Credit note")


NUMBER_PREFIX = {InvoiceKind.INVOICE: "INV", InvoiceKind.CREDIT_NOTE: "CN"}


class InvoiceSequence(models.Model):
    """The last number used in a series and year. Locked while a number is taken,
    so numbers are gapless and never given twice."""

    kind = models.CharField(max_length=20, choices=InvoiceKind.choices)
    year = models.PositiveIntegerField()
    last_number = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["kind", "year"], name="one_sequence_per_series_year"
            )
        ]

    def __str__(self):
        return f"{self.kind} {self.year}: {self.last_number}"


class PaymentStatus(models.TextChoices):
    OPEN = "open", _("Open")
    PAID = "paid", _("Paid")


class PaymentState(models.TextChoices):
    """What the pages and exports show of an invoice's payment. Computed, never
    stored: an open invoice becomes overdue at midnight with nothing written."""

    OPEN = "open", _("Open")
    PAID = "paid", _("Paid")
    OVERDUE = "overdue", _("Overdue")


class Invoice(models.Model):
    """An issued invoice or credit note. Never changed, never deleted.

    Both parties' details are copied here when it is issued, so later changes
    to an organisation or to the supplier settings leave it as it was sent.
    """

    kind = models.CharField(
        _("kind"),
        max_length=20,
        choices=InvoiceKind.choices,
        default=InvoiceKind.INVOICE,
    )
    year = models.PositiveIntegerField()
    sequence = models.PositiveIntegerField()
    number = models.CharField(_("number"), max_length=30, unique=True)
    organisation = models.ForeignKey(
        "accounts.Organisation", on_delete=models.PROTECT, related_name="invoices"
    )
    corrects = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="credit_notes",
        verbose_name=_("corrects"),
    )
    issue_date = models.DateField(_("issue date"))
    due_date = models.DateField(_("due date"))
    issued_at = models.DateTimeField(default=timezone.now)
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )
    currency = models.CharField(max_length=3, default="EUR")

    customer_name = models.CharField(max_length=200)
    customer_street = models.CharField(max_length=200)
    customer_postcode = models.CharField(max_length=10)
    customer_city = models.CharField(max_length=100)
    customer_country = models.CharField(max_length=2)
    customer_enterprise_number = models.CharField(max_length=10)
    customer_vat_number = models.CharField(max_length=14, blank=True)
    customer_email = models.EmailField()
    customer_language = models.CharField(max_length=2)
    supplier = models.JSONField()

    buyer_reference = models.CharField(_("your reference"), max_length=200, blank=True)
    order_form_reference = models.CharField(_("order form"), max_length=200, blank=True)
    structured_communication = models.CharField(max_length=12, blank=True)

    net_total = models.DecimalField(
        _("total excluding VAT"), max_digits=12, decimal_places=2
    )
    vat_total = models.DecimalField(
        pgettext_lazy("column", "VAT"), max_digits=12, decimal_places=2
    )
    gross_total = models.DecimalField(
        _("total including VAT"), max_digits=12, decimal_places=2
    )

    credit_reason = models.TextField(_("reason for the credit note"), blank=True)

    # The documents, rendered once from the snapshot above and then kept.
    pdf = models.FileField(upload_to="invoices/%Y/", blank=True)
    ubl = models.FileField(upload_to="invoices/%Y/", blank=True)
    payment_status = models.CharField(
        _("payment"),
        max_length=10,
        choices=PaymentStatus.choices,
        default=PaymentStatus.OPEN,
    )

    class Meta:
        verbose_name = _("invoice")
        verbose_name_plural = _("invoices")
        ordering = ["-issued_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["kind", "year", "sequence"],
                name="invoice_number_unique_in_series",
            ),
            models.CheckConstraint(
                condition=models.Q(
                    gross_total=models.F("net_total") + models.F("vat_total")
                ),
                name="invoice_total_is_net_plus_vat",
            ),
        ]

    def __str__(self):
        return self.number

    # Fields that may still be written after issue: the stored PDF and the
    # payment status. Everything the customer received stays as it was.
    MUTABLE_AFTER_ISSUE = frozenset({"pdf", "ubl", "payment_status"})

    def save(self, *args, update_fields=None, **kwargs):
        if self.pk is not None and not (
            update_fields and set(update_fields) <= self.MUTABLE_AFTER_ISSUE
        ):
            raise RuntimeError("An issued invoice never changes; issue a credit note.")
        super().save(*args, update_fields=update_fields, **kwargs)

    def delete(self, *args, **kwargs):
        raise RuntimeError("An issued invoice is never deleted; issue a credit note.")

    @property
    def structured_communication_display(self):
        if not self.structured_communication:
            return ""
        return f"+++{ogm_vcs.format(self.structured_communication)}+++"

    @property
    def is_credit_note(self):
        return self.kind == InvoiceKind.CREDIT_NOTE

    @property
    def is_overdue(self):
        """Open after its due date, as a Brussels date."""
        return (
            self.kind == InvoiceKind.INVOICE
            and self.payment_status == PaymentStatus.OPEN
            and self.due_date < timezone.localdate()
        )

    @property
    def payment_state(self):
        """Open, paid or overdue; None for a credit note, which is not paid."""
        if self.kind != InvoiceKind.INVOICE:
            return None
        if self.payment_status == PaymentStatus.PAID:
            return PaymentState.PAID
        return PaymentState.OVERDUE if self.is_overdue else PaymentState.OPEN

    def vat_breakdown(self):
        """Taxable amount and VAT per rate, as printed and as in the e-invoice."""
        from .money import vat_breakdown

        return vat_breakdown(self.lines.all())


class InvoiceLine(models.Model):
    invoice = models.ForeignKey(Invoice, on_delete=models.PROTECT, related_name="lines")
    position = models.PositiveIntegerField()
    period = models.ForeignKey(
        "subscriptions.SubscriptionPeriod",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="invoice_lines",
    )
    is_credit = models.BooleanField(default=False)
    description = models.CharField(_("description"), max_length=300)
    service_start = models.DateField(pgettext_lazy("period start", "from"))
    service_end = models.DateField(pgettext_lazy("period end", "to"))
    quantity = models.DecimalField(
        _("quantity"), max_digits=8, decimal_places=2, default=Decimal(1)
    )
    unit_price = models.DecimalField(_("unit price"), max_digits=10, decimal_places=2)
    net_amount = models.DecimalField(
        _("amount excluding VAT"), max_digits=12, decimal_places=2
    )
    vat_rate = models.DecimalField(_("VAT rate"), max_digits=5, decimal_places=2)
    agreement = models.ForeignKey(
        FrameworkAgreement,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    amendment = models.ForeignKey(
        PriceAmendment,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )

    class Meta:
        ordering = ["invoice", "position"]
        constraints = [
            # A period is invoiced once; a credit note may point at it again.
            models.UniqueConstraint(
                fields=["period"],
                condition=models.Q(is_credit=False, period__isnull=False),
                name="period_invoiced_once",
            ),
        ]

    def __str__(self):
        return self.description

    @property
    def price_source(self):
        return (
            self.amendment.reference if self.amendment_id else self.agreement.reference
        )


class PaymentSource(models.TextChoices):
    BANK_IMPORT = "bank_import", _("Bank statement")
    MANUAL = "manual", _("Recorded by TCD")


class Payment(models.Model):
    """Money received for an invoice."""

    invoice = models.ForeignKey(
        Invoice, on_delete=models.PROTECT, related_name="payments"
    )
    received_on = models.DateField(_("received on"))
    amount = models.DecimalField(_("amount"), max_digits=12, decimal_places=2)
    source = models.CharField(_("source"), max_length=20, choices=PaymentSource.choices)
    bank_import_line = models.OneToOneField(
        "BankImportLine",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="payment",
    )
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )
    recorded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("payment")
        verbose_name_plural = _("payments")
        ordering = ["received_on", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(amount__gt=0), name="payment_amount_positive"
            ),
        ]

    def __str__(self):
        return f"{self.invoice} {self.amount} {self.received_on}"


class BankImportFormat(models.TextChoices):
    CSV = "csv", _("CSV")
    CODA = "coda", _("CODA")


class BankImport(models.Model):
    """One bank statement file uploaded by TCD."""

    filename = models.CharField(_("file"), max_length=200)
    format = models.CharField(
        _("format"), max_length=10, choices=BankImportFormat.choices
    )
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    uploaded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("bank import")
        verbose_name_plural = _("bank imports")
        ordering = ["-uploaded_at"]

    def __str__(self):
        return self.filename


class BankImportLineStatus(models.TextChoices):
    MATCHED = "matched", _("Matched to an invoice")
    UNMATCHED = "unmatched", _("Not matched")
    DUPLICATE = "duplicate", _("Already imported")
    RESOLVED = "resolved", _("Settled by hand")


class BankImportLine(models.Model):
    """One credit movement of a statement, matched on its structured
    communication or listed for a person to settle."""

    bank_import = models.ForeignKey(
        BankImport, on_delete=models.PROTECT, related_name="lines"
    )
    position = models.PositiveIntegerField()
    booked_on = models.DateField(_("booked on"))
    amount = models.DecimalField(_("amount"), max_digits=12, decimal_places=2)
    communication = models.CharField(_("communication"), max_length=200, blank=True)
    counterparty_name = models.CharField(_("counterparty"), max_length=200, blank=True)
    counterparty_account = models.CharField(_("account"), max_length=50, blank=True)
    bank_reference = models.CharField(_("bank reference"), max_length=100, blank=True)
    status = models.CharField(
        _("status"), max_length=20, choices=BankImportLineStatus.choices, db_index=True
    )
    invoice = models.ForeignKey(
        Invoice, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    note = models.TextField(_("note"), blank=True)

    class Meta:
        verbose_name = _("bank statement line")
        verbose_name_plural = _("bank statement lines")
        ordering = ["bank_import", "position"]
        constraints = [
            models.UniqueConstraint(
                fields=["bank_import", "position"], name="bank_line_position_unique"
            ),
        ]

    def __str__(self):
        return f"{self.booked_on} {self.amount} {self.communication}"


class InvoiceRunStatus(models.TextChoices):
    DRAFT = "draft", _("Draft, to review")
    ISSUING = "issuing", _("Issuing")
    DONE = "done", pgettext_lazy("status", "Done")
    DISCARDED = "discarded", _("Discarded")


class InvoiceRun(models.Model):
    """TCD's run over everything due up to a day: first a draft to review, then
    the invoices, issued one organisation at a time in the background."""

    as_of = models.DateField(_("everything due up to"))
    status = models.CharField(
        _("status"),
        max_length=20,
        choices=InvoiceRunStatus.choices,
        default=InvoiceRunStatus.DRAFT,
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("invoice run")
        verbose_name_plural = _("invoice runs")
        ordering = ["-created_at"]

    def __str__(self):
        return _("Invoice run up to %(date)s") % {"date": self.as_of}


class InvoiceRunItemStatus(models.TextChoices):
    PENDING = "pending", _("To issue")
    ISSUED = "issued", _("Issued")
    SKIPPED = "skipped", _("Skipped")


class InvoiceRunItem(models.Model):
    """One invoice of a run: an organisation and the periods it covers."""

    run = models.ForeignKey(InvoiceRun, on_delete=models.PROTECT, related_name="items")
    organisation = models.ForeignKey(
        "accounts.Organisation", on_delete=models.PROTECT, related_name="+"
    )
    period_ids = models.JSONField()
    net_total = models.DecimalField(max_digits=12, decimal_places=2)
    vat_total = models.DecimalField(max_digits=12, decimal_places=2)
    gross_total = models.DecimalField(max_digits=12, decimal_places=2)
    status = models.CharField(
        max_length=20,
        choices=InvoiceRunItemStatus.choices,
        default=InvoiceRunItemStatus.PENDING,
        db_index=True,
    )
    invoice = models.OneToOneField(
        Invoice,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="run_item",
    )
    problem = models.TextField(blank=True)

    class Meta:
        ordering = ["run", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["run", "organisation"], name="one_run_item_per_organisation"
            ),
        ]

    def __str__(self):
        return f"{self.run_id}: {self.organisation}"
