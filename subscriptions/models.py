from django.conf import settings
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from . import periods


class AccessLevel(models.TextChoices):
    USER = "user", _("User")
    ADMINISTRATOR = "administrator", _("Administrator")


class IcmsAccountStatus(models.TextChoices):
    ACTIVE = "active", _("Active")
    TO_BE_REMOVED = "to_be_removed", _("To be removed")
    CLOSED = "closed", _("Closed")
    REMOVED = "removed", _("Removed")


class IcmsAccount(models.Model):
    """A user account on the ICMS platform itself, held by one person."""

    organisation = models.ForeignKey(
        "accounts.Organisation",
        on_delete=models.PROTECT,
        related_name="icms_accounts",
        verbose_name=_("organisation"),
    )
    order_line = models.OneToOneField(
        "orders.OrderLine",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="icms_account",
    )
    username = models.CharField(_("ICMS user name"), max_length=150)
    holder_first_name = models.CharField(_("first name"), max_length=100)
    holder_last_name = models.CharField(_("last name"), max_length=100)
    holder_email = models.EmailField(_("email"))
    holder_function = models.CharField(_("function"), max_length=100, blank=True)
    level = models.CharField(
        _("access level"),
        max_length=20,
        choices=AccessLevel.choices,
        default=AccessLevel.USER,
    )
    status = models.CharField(
        _("status"),
        max_length=20,
        choices=IcmsAccountStatus.choices,
        default=IcmsAccountStatus.ACTIVE,
        db_index=True,
    )
    is_base_package = models.BooleanField(
        _("base package"),
        default=False,
        help_text=_("Given by the distribution scheme and never invoiced."),
    )
    training_included = models.BooleanField(_("training included"), default=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("ICMS account")
        verbose_name_plural = _("ICMS accounts")
        ordering = ["organisation", "username"]
        constraints = [
            models.UniqueConstraint(
                Lower("username"),
                name="icms_username_unique",
                violation_error_message=_("This ICMS user name is already taken."),
            ),
        ]

    def __str__(self):
        return self.username

    @property
    def holder_name(self):
        return f"{self.holder_first_name} {self.holder_last_name}"


class ClosureReason(models.TextChoices):
    BREACH = "breach", _("Serious or repeated breach of the user's obligations")
    SECURITY_RISK = "security_risk", _("Serious security risk")
    AUTHORITY_REQUEST = "authority_request", _("Request of a competent authority")


class SubscriptionStatus(models.TextChoices):
    ACTIVE = "active", _("Active")
    ENDED = "ended", _("Ended")
    CLOSED = "closed", _("Closed by TCD")


class Subscription(models.Model):
    """The yearly subscription behind one ICMS account."""

    account = models.OneToOneField(
        IcmsAccount, on_delete=models.PROTECT, related_name="subscription"
    )
    activation_date = models.DateField(_("activation date"))
    status = models.CharField(
        _("status"),
        max_length=10,
        choices=SubscriptionStatus.choices,
        default=SubscriptionStatus.ACTIVE,
        db_index=True,
    )
    ended_on = models.DateField(_("ended on"), null=True, blank=True)

    # Closure by TCD: immediate, with a reason and who asked for it.
    closed_at = models.DateTimeField(null=True, blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    closure_reason = models.CharField(
        _("reason for closure"),
        max_length=30,
        choices=ClosureReason.choices,
        blank=True,
    )
    closure_requested_by = models.CharField(
        _("requested by"), max_length=200, blank=True
    )
    closure_note = models.TextField(_("note"), blank=True)

    class Meta:
        verbose_name = _("subscription")
        verbose_name_plural = _("subscriptions")

    def __str__(self):
        return _("Subscription of %(account)s") % {"account": self.account}

    def period_on(self, day):
        return periods.period_on(self.activation_date, day)

    def current_period(self):
        return self.period_on(timezone.localdate())

    def active_cancellation(self):
        return self.cancellations.filter(withdrawn_at__isnull=True).first()


class SubscriptionPeriod(models.Model):
    """A year of a subscription that has begun: the first at activation,
    one more at each renewal. Invoice lines point here."""

    subscription = models.ForeignKey(
        Subscription, on_delete=models.PROTECT, related_name="periods"
    )
    index = models.PositiveIntegerField()
    start = models.DateField(_("from"))
    end = models.DateField(_("to"))
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("subscription period")
        verbose_name_plural = _("subscription periods")
        ordering = ["subscription", "index"]
        constraints = [
            models.UniqueConstraint(
                fields=["subscription", "start"], name="one_period_per_start"
            ),
            models.UniqueConstraint(
                fields=["subscription", "index"], name="one_period_per_index"
            ),
            models.CheckConstraint(
                condition=models.Q(end__gt=models.F("start")),
                name="period_ends_after_start",
            ),
        ]

    def __str__(self):
        return f"{self.start:%d/%m/%Y} – {self.end:%d/%m/%Y}"

    @property
    def last_day_to_cancel(self):
        return periods.last_day_to_cancel(self.end)


class CancellationChannel(models.TextChoices):
    PORTAL = "portal", _("In the portal")
    EMAIL = "email", _("By email")
    TCD = "tcd", _("Registered by TCD")


class Cancellation(models.Model):
    """A customer's cancellation of a subscription, until withdrawn."""

    subscription = models.ForeignKey(
        Subscription, on_delete=models.PROTECT, related_name="cancellations"
    )
    received_at = models.DateTimeField(_("received"))
    channel = models.CharField(
        _("channel"), max_length=10, choices=CancellationChannel.choices
    )
    registered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    sender_email = models.EmailField(_("sender"), blank=True)
    stop_date = models.DateField(_("access stops after"))
    withdrawn_at = models.DateTimeField(null=True, blank=True)
    withdrawn_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )

    class Meta:
        verbose_name = _("cancellation")
        verbose_name_plural = _("cancellations")
        ordering = ["-received_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["subscription"],
                condition=models.Q(withdrawn_at__isnull=True),
                name="one_standing_cancellation_per_subscription",
            ),
        ]

    def __str__(self):
        return f"{self.subscription.account} stops after {self.stop_date}"


class InboundEmailStatus(models.TextChoices):
    RECEIVED = "received", _("Received, not yet processed")
    REGISTERED = "registered", _("Cancellation registered")
    REVIEW = "review", _("Waiting for review")
    RESOLVED = "resolved", _("Reviewed")


class InboundEmailReason(models.TextChoices):
    UNPARSEABLE = "unparseable", _("The message could not be read")
    AUTHENTICATION_FAILED = (
        "authentication_failed",
        _("The sender's address failed the mail provider's authentication checks"),
    )
    UNKNOWN_SENDER = (
        "unknown_sender",
        _("The sender is not an admin of any organisation in the portal"),
    )
    NO_ACCOUNT = "no_account", _("The message names no ICMS account")
    SEVERAL_ACCOUNTS = "several_accounts", _("The message names several ICMS accounts")
    OTHER_ORGANISATION = (
        "other_organisation",
        _("The account named belongs to another organisation than the sender's"),
    )
    NOT_CANCELLABLE = (
        "not_cancellable",
        _("The account has ended or is already cancelled"),
    )


class InboundEmail(models.Model):
    """A message that reached TCD's admin mailbox, kept whatever becomes of it.

    A message either registers a cancellation or waits in TCD's review queue
    with the reason; none is dropped. The same message delivered twice is
    stored once, by its Message-ID.
    """

    message_id = models.CharField(max_length=300, unique=True)
    received_at = models.DateTimeField(_("received"))
    sender_address = models.CharField(_("sender"), max_length=320, blank=True)
    sender_name = models.CharField(_("sender's name"), max_length=200, blank=True)
    subject = models.CharField(_("subject"), max_length=500, blank=True)
    body_text = models.TextField(_("text"), blank=True)
    authentication = models.CharField(max_length=20, blank=True)
    status = models.CharField(
        _("status"),
        max_length=20,
        choices=InboundEmailStatus.choices,
        default=InboundEmailStatus.RECEIVED,
        db_index=True,
    )
    reason = models.CharField(
        _("reason"), max_length=30, choices=InboundEmailReason.choices, blank=True
    )
    cancellation = models.OneToOneField(
        Cancellation,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="inbound_email",
    )
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    reviewed_at = models.DateTimeField(null=True, blank=True)
    review_note = models.TextField(_("note"), blank=True)

    class Meta:
        verbose_name = _("inbound email")
        verbose_name_plural = _("inbound emails")
        ordering = ["received_at", "pk"]

    def __str__(self):
        return f"{self.sender_address}: {self.subject}"
