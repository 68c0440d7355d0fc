from django.conf import settings
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class AccessRequestStatus(models.TextChoices):
    SUBMITTED = "submitted", _("Waiting for the ICMS cell")
    REFUSED = "refused", _("Refused")
    ORDER_FORM_ISSUED = "order_form_issued", _("Order form to complete")
    ORDER_FORM_SUBMITTED = "order_form_submitted", _("Accounts being created")
    ACCOUNTS_CREATED = "accounts_created", _("Accounts created")


class AccessRequest(models.Model):
    """Step 1: an organisation asks for additional accesses."""

    organisation = models.ForeignKey(
        "accounts.Organisation",
        on_delete=models.PROTECT,
        related_name="access_requests",
        verbose_name=_("organisation"),
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="access_requests",
        verbose_name=_("requested by"),
    )
    requester_phone = models.CharField(_("phone"), max_length=30, blank=True)
    requester_function = models.CharField(_("function"), max_length=100, blank=True)
    quantity = models.PositiveIntegerField(_("number of accesses"))
    motivation = models.TextField(_("motivation"))
    status = models.CharField(
        _("status"),
        max_length=30,
        choices=AccessRequestStatus.choices,
        default=AccessRequestStatus.SUBMITTED,
        db_index=True,
    )
    submitted_at = models.DateTimeField(_("submitted"), default=timezone.now)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("decided by"),
    )
    decided_at = models.DateTimeField(_("decided"), null=True, blank=True)
    refusal_reason = models.TextField(_("reason for the refusal"), blank=True)

    class Meta:
        verbose_name = _("access request")
        verbose_name_plural = _("access requests")
        ordering = ["-submitted_at"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(quantity__gte=1),
                name="access_request_quantity_positive",
            ),
            models.CheckConstraint(
                condition=~models.Q(status="refused") | ~models.Q(refusal_reason=""),
                name="refusal_has_a_reason",
            ),
        ]

    def __str__(self):
        return _("Request %(number)s") % {"number": self.reference}

    @property
    def reference(self):
        return f"AR-{self.submitted_at:%Y}-{self.pk:05d}"


class OrderForm(models.Model):
    """Steps 2 and 3: the order form the ICMS cell issues and the organisation
    completes."""

    access_request = models.OneToOneField(
        AccessRequest, on_delete=models.PROTECT, related_name="order_form"
    )
    quantity = models.PositiveIntegerField(_("number of accesses"))
    cell_message = models.TextField(_("message from the ICMS cell"), blank=True)
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    issued_at = models.DateTimeField(default=timezone.now)

    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    submitted_at = models.DateTimeField(null=True, blank=True)
    conditions_accepted_at = models.DateTimeField(null=True, blank=True)

    # The billing details as the organisation confirmed them on submission.
    billing_name = models.CharField(
        _("name on the invoice"), max_length=200, blank=True
    )
    billing_street = models.CharField(
        _("street and number"), max_length=200, blank=True
    )
    billing_postcode = models.CharField(_("postcode"), max_length=10, blank=True)
    billing_city = models.CharField(_("city"), max_length=100, blank=True)
    billing_email = models.EmailField(_("billing email"), blank=True)
    billing_vat_number = models.CharField(_("VAT number"), max_length=14, blank=True)
    purchase_order_reference = models.CharField(
        _("your purchase order or reference"),
        max_length=100,
        blank=True,
        help_text=_("Printed on the invoice and carried in the e-invoice."),
    )

    class Meta:
        verbose_name = _("order form")
        verbose_name_plural = _("order forms")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(quantity__gte=1), name="order_form_quantity_positive"
            ),
        ]

    def __str__(self):
        return self.reference

    @property
    def reference(self):
        return f"OF-{self.issued_at:%Y}-{self.pk:05d}"

    @property
    def is_submitted(self):
        return self.submitted_at is not None


class OrderLine(models.Model):
    """One access on an order form, and the person who will hold it."""

    order_form = models.ForeignKey(
        OrderForm, on_delete=models.PROTECT, related_name="lines"
    )
    position = models.PositiveIntegerField()
    first_name = models.CharField(_("first name"), max_length=100)
    last_name = models.CharField(_("last name"), max_length=100)
    email = models.EmailField(_("email"))
    function = models.CharField(_("function"), max_length=100)
    training_included = models.BooleanField(_("training included"), default=False)

    class Meta:
        verbose_name = _("order line")
        verbose_name_plural = _("order lines")
        ordering = ["order_form", "position"]
        constraints = [
            models.UniqueConstraint(
                "order_form", Lower("email"), name="order_line_email_unique_per_form"
            ),
            models.UniqueConstraint(
                fields=["order_form", "position"], name="order_line_position_unique"
            ),
        ]

    def __str__(self):
        return f"{self.first_name} {self.last_name}"

    @property
    def full_name(self):
        return f"{self.first_name} {self.last_name}"
