from django.conf import settings
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

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
    ENDED = "ended", pgettext_lazy("status", "Ended")
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
    start = models.DateField(pgettext_lazy("period start", "from"))
    end = models.DateField(pgettext_lazy("period end", "to"))
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
        return _("%(account)s stops after %(date)s") % {
            "account": self.subscription.account,
            "date": self.stop_date,
        }


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


# The duties the conditions of use put on an organisation: upgrades to
# administrator, departures of holders, the yearly review of personal data.


class UpgradeRequestStatus(models.TextChoices):
    OPEN = "open", _("Waiting for the ICMS cell")
    APPROVED = "approved", _("Approved")
    REFUSED = "refused", _("Refused")


class UpgradeRequest(models.Model):
    """An organisation admin asks the ICMS cell to raise an ICMS account from
    user to administrator. The row is also the account's level history."""

    account = models.ForeignKey(
        IcmsAccount, on_delete=models.PROTECT, related_name="upgrade_requests"
    )
    reason = models.TextField(_("why the holder needs the administrator level"))
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("requested by"),
    )
    requested_at = models.DateTimeField(_("requested"), default=timezone.now)
    status = models.CharField(
        _("status"),
        max_length=10,
        choices=UpgradeRequestStatus.choices,
        default=UpgradeRequestStatus.OPEN,
        db_index=True,
    )
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
        verbose_name = _("upgrade request")
        verbose_name_plural = _("upgrade requests")
        ordering = ["requested_at", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["account"],
                condition=models.Q(status="open"),
                name="one_open_upgrade_request_per_account",
                violation_error_message=_(
                    "An upgrade of this account is already waiting for the ICMS cell."
                ),
            ),
            models.CheckConstraint(
                condition=~models.Q(status="refused") | ~models.Q(refusal_reason=""),
                name="upgrade_refusal_has_a_reason",
            ),
            models.CheckConstraint(
                condition=models.Q(status="open", decided_at__isnull=True)
                | (~models.Q(status="open") & models.Q(decided_at__isnull=False)),
                name="upgrade_decided_once_decided",
            ),
        ]

    def __str__(self):
        return _("Upgrade of %(account)s to administrator") % {"account": self.account}


class DepartureOutcome(models.TextChoices):
    CANCELLED = "cancelled", _("The access is cancelled")
    HANDED_OVER = "handed_over", _("The access is handed over to a successor")


class HolderDeparture(models.Model):
    """The holder of an ICMS account left the organisation.

    Keeps the holder who left as they were, and either the cancellation that
    ends the access or the successor who holds it from then on: the rows of
    an account are the history of its holders.
    """

    account = models.ForeignKey(
        IcmsAccount, on_delete=models.PROTECT, related_name="departures"
    )
    left_on = models.DateField(_("left on"))
    outcome = models.CharField(
        _("what becomes of the access"),
        max_length=20,
        choices=DepartureOutcome.choices,
    )
    holder_first_name = models.CharField(_("first name"), max_length=100)
    holder_last_name = models.CharField(_("last name"), max_length=100)
    holder_email = models.EmailField(_("email"))
    holder_function = models.CharField(_("function"), max_length=100, blank=True)
    successor_first_name = models.CharField(
        _("successor's first name"), max_length=100, blank=True
    )
    successor_last_name = models.CharField(
        _("successor's last name"), max_length=100, blank=True
    )
    successor_email = models.EmailField(_("successor's email"), blank=True)
    successor_function = models.CharField(
        _("successor's function"), max_length=100, blank=True
    )
    cancellation = models.ForeignKey(
        Cancellation,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="departures",
    )
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("recorded by"),
    )
    recorded_at = models.DateTimeField(_("recorded"), default=timezone.now)

    class Meta:
        verbose_name = _("departure of a holder")
        verbose_name_plural = _("departures of holders")
        ordering = ["recorded_at", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(outcome="handed_over")
                | (
                    ~models.Q(successor_first_name="")
                    & ~models.Q(successor_last_name="")
                    & ~models.Q(successor_email="")
                ),
                name="handed_over_names_the_successor",
            ),
            models.CheckConstraint(
                condition=~models.Q(outcome="cancelled")
                | models.Q(cancellation__isnull=False),
                name="cancelled_departure_has_its_cancellation",
            ),
        ]

    def __str__(self):
        return f"{self.account}: {self.holder_name} left on {self.left_on}"

    @property
    def holder_name(self):
        return f"{self.holder_first_name} {self.holder_last_name}"

    @property
    def successor_name(self):
        return f"{self.successor_first_name} {self.successor_last_name}".strip()


class PasswordChangeStatus(models.TextChoices):
    PENDING = "pending", _("Waiting for the ICMS cell")
    DONE = "done", pgettext_lazy("status", "Done")


class PasswordChange(models.Model):
    """The ICMS cell must change the password of an account whose holder left."""

    departure = models.OneToOneField(
        HolderDeparture, on_delete=models.PROTECT, related_name="password_change"
    )
    account = models.ForeignKey(
        IcmsAccount, on_delete=models.PROTECT, related_name="password_changes"
    )
    status = models.CharField(
        _("status"),
        max_length=10,
        choices=PasswordChangeStatus.choices,
        default=PasswordChangeStatus.PENDING,
        db_index=True,
    )
    requested_at = models.DateTimeField(_("requested"), default=timezone.now)
    done_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("done by"),
    )
    done_at = models.DateTimeField(_("done"), null=True, blank=True)

    class Meta:
        verbose_name = _("password change")
        verbose_name_plural = _("password changes")
        ordering = ["requested_at", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(status="pending", done_at__isnull=True)
                | models.Q(status="done", done_at__isnull=False),
                name="password_change_done_once_done",
            ),
        ]

    def __str__(self):
        return _("Password change of %(account)s") % {"account": self.account}


class PersonalDataReview(models.Model):
    """An organisation's yearly review of its active ICMS accounts."""

    organisation = models.ForeignKey(
        "accounts.Organisation",
        on_delete=models.PROTECT,
        related_name="personal_data_reviews",
        verbose_name=_("organisation"),
    )
    due_on = models.DateField(_("was due on"))
    confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("confirmed by"),
    )
    confirmed_at = models.DateTimeField(_("confirmed"), default=timezone.now)

    class Meta:
        verbose_name = _("review of personal data")
        verbose_name_plural = _("reviews of personal data")
        ordering = ["-confirmed_at", "-pk"]

    def __str__(self):
        return f"{self.organisation}: {self.confirmed_at:%Y-%m-%d}"


class PersonalDataReviewLine(models.Model):
    """One account as the review found it, with the holder as reviewed."""

    review = models.ForeignKey(
        PersonalDataReview, on_delete=models.PROTECT, related_name="lines"
    )
    account = models.ForeignKey(
        IcmsAccount, on_delete=models.PROTECT, related_name="review_lines"
    )
    still_needed = models.BooleanField(_("still needed"))
    details_correct = models.BooleanField(_("holder's details are right"))
    note = models.TextField(_("note"), blank=True)
    holder_first_name = models.CharField(_("first name"), max_length=100)
    holder_last_name = models.CharField(_("last name"), max_length=100)
    holder_email = models.EmailField(_("email"))
    holder_function = models.CharField(_("function"), max_length=100, blank=True)

    class Meta:
        verbose_name = _("reviewed account")
        verbose_name_plural = _("reviewed accounts")
        ordering = ["review", "account__username"]
        constraints = [
            models.UniqueConstraint(
                fields=["review", "account"], name="one_review_line_per_account"
            ),
            models.CheckConstraint(
                condition=models.Q(details_correct=True) | ~models.Q(note=""),
                name="wrong_details_are_explained",
            ),
        ]

    def __str__(self):
        return f"{self.review}: {self.account}"

    @property
    def holder_name(self):
        return f"{self.holder_first_name} {self.holder_last_name}"
