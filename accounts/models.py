from django.contrib.auth.models import (
    AbstractBaseUser,
    BaseUserManager,
    PermissionsMixin,
)
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from stdnum.be import vat as belgian_enterprise_number


class Language(models.TextChoices):
    DUTCH = "nl", _("Dutch")
    FRENCH = "fr", _("French")
    ENGLISH = "en", _("English")


def enterprise_number_normalise(value):
    """Return the ten digits of a Belgian enterprise number, or raise.

    Accepts the usual spellings: ``0403.170.701``, ``BE 0403 170 701``,
    ``403170701`` (the old nine-digit form).
    """
    try:
        return belgian_enterprise_number.validate(value or "")
    except Exception as error:  # stdnum raises several ValidationError kinds
        raise ValidationError(
            _("“%(value)s” is not a valid Belgian enterprise number."),
            code="invalid_enterprise_number",
            params={"value": value},
        ) from error


def enterprise_number_format(digits):
    return f"{digits[:4]}.{digits[4:7]}.{digits[7:]}" if digits else ""


class Configuration(models.TextChoices):
    STANDARD = "standard", _("Standard IBZ configuration")
    SPECIFIC = "specific", _("Specific configuration")


class Organisation(models.Model):
    """A customer: an authority, an emergency service or a company."""

    legal_name = models.CharField(_("legal name"), max_length=200)
    enterprise_number = models.CharField(
        _("enterprise number"),
        max_length=10,
        unique=True,
        help_text=_("Ten digits, for example 0403.170.701."),
    )
    vat_number = models.CharField(
        _("VAT number"),
        max_length=14,
        blank=True,
        help_text=_("Only when the organisation is registered for VAT."),
    )
    street = models.CharField(_("street and number"), max_length=200)
    postcode = models.CharField(_("postcode"), max_length=10)
    city = models.CharField(_("city"), max_length=100)
    country = models.CharField(_("country"), max_length=2, default="BE")
    billing_email = models.EmailField(_("billing email"))
    language = models.CharField(
        _("language"), max_length=2, choices=Language.choices, default=Language.DUTCH
    )
    contracting_authority = models.ForeignKey(
        "invoicing.ContractingAuthority",
        on_delete=models.PROTECT,
        related_name="organisations",
        verbose_name=_("contracting authority"),
    )
    configuration = models.CharField(
        _("configuration"),
        max_length=10,
        choices=Configuration.choices,
        default=Configuration.STANDARD,
    )
    specific_configuration_name = models.CharField(
        _("specific configuration"), max_length=100, blank=True
    )
    base_package_allocation = models.PositiveIntegerField(
        _("base package accesses"),
        default=0,
        help_text=_(
            "How many accesses the distribution scheme gives it, free of charge."
        ),
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        verbose_name = _("organisation")
        verbose_name_plural = _("organisations")
        ordering = ["legal_name"]
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(configuration="specific")
                | ~models.Q(specific_configuration_name=""),
                name="specific_configuration_is_named",
            ),
        ]

    def __str__(self):
        return self.legal_name

    def clean_fields(self, exclude=None):
        # The usual spellings (0403.170.701, BE 0403 170 701) are longer than
        # the ten digits stored, so they become digits before the length checks.
        exclude = set(exclude or ())
        errors = {}
        if "enterprise_number" not in exclude:
            try:
                self.enterprise_number = enterprise_number_normalise(
                    self.enterprise_number
                )
            except ValidationError as error:
                errors["enterprise_number"] = error.error_list
        if self.vat_number and "vat_number" not in exclude:
            try:
                self.vat_number = "BE" + enterprise_number_normalise(self.vat_number)
            except ValidationError as error:
                errors["vat_number"] = error.error_list
        try:
            super().clean_fields(exclude=exclude | set(errors))
        except ValidationError as error:
            errors = error.update_error_dict(errors)
        if errors:
            raise ValidationError(errors)

    def clean(self):
        if (
            self.configuration == Configuration.SPECIFIC
            and not self.specific_configuration_name
        ):
            raise ValidationError(
                {
                    "specific_configuration_name": _(
                        "Name the specific configuration the organisation belongs to."
                    )
                }
            )

    @property
    def enterprise_number_display(self):
        return enterprise_number_format(self.enterprise_number)

    @property
    def address_lines(self):
        return [self.street, f"{self.postcode} {self.city}"]

    @property
    def configuration_display(self):
        if self.configuration == Configuration.SPECIFIC:
            return self.specific_configuration_name
        return self.get_configuration_display()


class Role(models.TextChoices):
    ORGANISATION_ADMIN = "organisation_admin", _("Organisation admin")
    ICMS_CELL = "icms_cell", _("ICMS cell staff")
    TCD = "tcd", _("TCD staff")


class UserManager(BaseUserManager):
    use_in_migrations = True

    def create_user(self, email, password=None, **fields):
        user = self.model(email=self.normalize_email(email).strip(), **fields)
        user.set_password(password)
        user.full_clean(exclude=["password"])
        user.save(using=self._db)
        return user

    def create_superuser(self, email, password=None, **fields):
        fields.setdefault("role", Role.TCD)
        return self.create_user(
            email, password, is_staff=True, is_superuser=True, **fields
        )

    def get_by_natural_key(self, email):
        return self.get(email__iexact=email)


class User(AbstractBaseUser, PermissionsMixin):
    """A person who logs in to the portal, by email address."""

    email = models.EmailField(_("email address"))
    first_name = models.CharField(_("first name"), max_length=100)
    last_name = models.CharField(_("last name"), max_length=100)
    phone = models.CharField(_("phone"), max_length=30, blank=True)
    function = models.CharField(_("function"), max_length=100, blank=True)
    role = models.CharField(_("role"), max_length=20, choices=Role.choices)
    organisation = models.ForeignKey(
        Organisation,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="users",
        verbose_name=_("organisation"),
    )
    language = models.CharField(
        _("language"), max_length=2, choices=Language.choices, default=Language.DUTCH
    )
    is_active = models.BooleanField(_("active"), default=True)
    is_staff = models.BooleanField(_("may use the Django admin"), default=False)
    date_joined = models.DateTimeField(default=timezone.now, editable=False)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS = ["first_name", "last_name"]

    class Meta:
        verbose_name = _("portal user")
        verbose_name_plural = _("portal users")
        ordering = ["last_name", "first_name"]
        constraints = [
            models.UniqueConstraint(
                Lower("email"),
                name="user_email_unique_case_insensitive",
                violation_error_message=_(
                    "A portal user with this email address already exists."
                ),
            ),
            models.CheckConstraint(
                condition=models.Q(
                    role="organisation_admin", organisation__isnull=False
                )
                | (
                    ~models.Q(role="organisation_admin")
                    & models.Q(organisation__isnull=True)
                ),
                name="only_organisation_admins_belong_to_an_organisation",
            ),
        ]

    def __str__(self):
        return f"{self.full_name} <{self.email}>"

    @property
    def full_name(self):
        return f"{self.first_name} {self.last_name}".strip()

    def get_full_name(self):
        return self.full_name

    def get_short_name(self):
        return self.first_name

    @property
    def is_organisation_admin(self):
        return self.role == Role.ORGANISATION_ADMIN

    @property
    def is_icms_cell(self):
        return self.role == Role.ICMS_CELL

    @property
    def is_tcd(self):
        return self.role == Role.TCD


class SuspiciousReportStatus(models.TextChoices):
    RECEIVED = "received", pgettext_lazy("report status", "Received")
    INVESTIGATING = "investigating", _("Being investigated")
    CLOSED = "closed", _("Closed")


class SuspiciousReport(models.Model):
    """A suspicious situation someone reported to the helpdesk."""

    reported_by = models.ForeignKey(
        User,
        on_delete=models.PROTECT,
        related_name="suspicious_reports",
        verbose_name=_("reported by"),
    )
    organisation = models.ForeignKey(
        Organisation,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="suspicious_reports",
        verbose_name=_("organisation"),
        help_text=_("The reporter's organisation, for an organisation admin."),
    )
    description = models.TextField(_("what happened"))
    happened_at = models.DateTimeField(_("when it happened"))
    icms_account = models.ForeignKey(
        "subscriptions.IcmsAccount",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="suspicious_reports",
        verbose_name=_("ICMS account concerned"),
    )
    received_at = models.DateTimeField(_("received"), default=timezone.now)
    status = models.CharField(
        _("status"),
        max_length=20,
        choices=SuspiciousReportStatus.choices,
        default=SuspiciousReportStatus.RECEIVED,
        db_index=True,
    )
    status_note = models.TextField(_("note"), blank=True)

    class Meta:
        verbose_name = _("report of a suspicious situation")
        verbose_name_plural = _("reports of suspicious situations")
        ordering = ["-received_at", "-pk"]

    def __str__(self):
        return self.reference

    @property
    def reference(self):
        return f"SR-{self.received_at:%Y}-{self.pk:05d}"


class SuspiciousReportStatusChange(models.Model):
    """One change of a report's status, with TCD's note: the report's history."""

    report = models.ForeignKey(
        SuspiciousReport, on_delete=models.PROTECT, related_name="status_changes"
    )
    from_status = models.CharField(
        pgettext_lazy("previous status", "from"),
        max_length=20,
        choices=SuspiciousReportStatus.choices,
    )
    to_status = models.CharField(
        pgettext_lazy("new status", "to"),
        max_length=20,
        choices=SuspiciousReportStatus.choices,
    )
    note = models.TextField(_("note"), blank=True)
    changed_by = models.ForeignKey(
        User, on_delete=models.PROTECT, related_name="+", verbose_name=_("by")
    )
    changed_at = models.DateTimeField(_("when"), default=timezone.now)

    class Meta:
        verbose_name = _("status change of a report")
        verbose_name_plural = _("status changes of reports")
        ordering = ["changed_at", "pk"]

    def __str__(self):
        return f"{self.report}: {self.from_status} → {self.to_status}"
