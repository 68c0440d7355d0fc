"""The duties the conditions of use put on an organisation, as services.

An ICMS account starts at level user and is raised to administrator on a
simple request to the ICMS cell. When the holder of an account leaves, the
access is cancelled or handed to a successor, and the ICMS cell changes its
password either way. Once a year the organisation reviews the personal data
of every active account (the rules of when are in ``duty_selectors``).
"""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from accounts.models import Organisation, Role
from accounts.permissions import role_require
from accounts.selectors import organisation_admin_emails
from audit.services import Summary, audit_record
from notifications.models import OutgoingEmail
from notifications.services import (
    email_queue,
    mailbox_email_queue,
    organisation_email_queue,
)

from . import duty_selectors
from .models import (
    AccessLevel,
    CancellationChannel,
    DepartureOutcome,
    HolderDeparture,
    IcmsAccount,
    IcmsAccountStatus,
    PasswordChange,
    PasswordChangeStatus,
    PersonalDataReview,
    PersonalDataReviewLine,
    SubscriptionStatus,
    UpgradeRequest,
    UpgradeRequestStatus,
)
from .services import _access_request_of, subscription_cancel

HOLDER_FIELDS = ("first_name", "last_name", "email", "function")


def _require_admin_of(user, organisation):
    if user.role != Role.ORGANISATION_ADMIN or user.organisation_id != organisation.pk:
        raise ValidationError(
            _("Only an admin of the organisation can do this for its accounts."),
            code="wrong_role",
        )


def _lock_account(account):
    return (
        IcmsAccount.objects.select_for_update(of=("self",))
        .select_related("organisation", "subscription")
        .get(pk=account.pk)
    )


def _require_running(account):
    subscription = getattr(account, "subscription", None)
    if account.status != IcmsAccountStatus.ACTIVE or (
        subscription is None or subscription.status != SubscriptionStatus.ACTIVE
    ):
        raise ValidationError(_("This access has ended."), code="not_active")


def _cell_email(**kwargs):
    mailbox_email_queue(mailboxes=[settings.ICMS_CELL_MAILBOX], **kwargs)


# Upgrade to administrator.


def _already_requested():
    return ValidationError(
        _("An upgrade of this account is already waiting for the ICMS cell."),
        code="already_requested",
    )


@transaction.atomic
def upgrade_request_submit(*, account, requested_by, reason, client_address=None):
    """An organisation admin asks for one of its accounts to become administrator."""
    _require_admin_of(requested_by, account.organisation)
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError(
            {"reason": _("Say why the holder needs the administrator level.")},
            code="reason_missing",
        )
    account = _lock_account(account)
    _require_running(account)
    if account.level == AccessLevel.ADMINISTRATOR:
        raise ValidationError(
            _("This account is already at level administrator."),
            code="already_administrator",
        )
    if account.upgrade_requests.filter(status=UpgradeRequestStatus.OPEN).exists():
        raise _already_requested()

    try:
        with transaction.atomic():
            upgrade_request = UpgradeRequest.objects.create(
                account=account, reason=reason, requested_by=requested_by
            )
    except IntegrityError as error:
        # Two admins asked at the same moment; the constraint kept one.
        raise _already_requested() from error
    audit_record(
        action="upgrade_request.submitted",
        actor=requested_by,
        subject=upgrade_request,
        organisation=account.organisation,
        access_request=_access_request_of(account),
        summary=Summary(
            "Asked to raise %(username)s to administrator.", username=account.username
        ),
        client_address=client_address,
    )
    _cell_email(
        key=f"upgrade_request.submitted:{upgrade_request.pk}",
        template="upgrade_requested",
        context={
            "upgrade_request": upgrade_request,
            "account": account,
            "organisation": account.organisation,
        },
    )
    return upgrade_request


def _lock_open_upgrade_request(upgrade_request):
    upgrade_request = UpgradeRequest.objects.select_for_update().get(
        pk=upgrade_request.pk
    )
    if upgrade_request.status != UpgradeRequestStatus.OPEN:
        raise ValidationError(
            _("This upgrade request is already %(status)s.")
            % {"status": upgrade_request.get_status_display().lower()},
            code="wrong_status",
        )
    return upgrade_request


@transaction.atomic
def upgrade_request_approve(*, upgrade_request, decided_by, client_address=None):
    """The ICMS cell raises the account to administrator."""
    role_require(decided_by, Role.ICMS_CELL)
    upgrade_request = _lock_open_upgrade_request(upgrade_request)
    account = _lock_account(upgrade_request.account)
    _require_running(account)

    upgrade_request.status = UpgradeRequestStatus.APPROVED
    upgrade_request.decided_by = decided_by
    upgrade_request.decided_at = timezone.now()
    upgrade_request.save(update_fields=["status", "decided_by", "decided_at"])
    previous_level = account.level
    account.level = AccessLevel.ADMINISTRATOR
    account.save(update_fields=["level"])
    audit_record(
        action="upgrade_request.approved",
        actor=decided_by,
        subject=upgrade_request,
        organisation=account.organisation,
        access_request=_access_request_of(account),
        summary=Summary(
            "%(username)s raised to administrator.", username=account.username
        ),
        client_address=client_address,
        data={"from": previous_level, "to": AccessLevel.ADMINISTRATOR.value},
    )
    organisation_email_queue(
        key=f"upgrade_request.approved:{upgrade_request.pk}",
        template="upgrade_approved",
        organisation=account.organisation,
        context={"upgrade_request": upgrade_request, "account": account},
    )
    return upgrade_request


@transaction.atomic
def upgrade_request_refuse(*, upgrade_request, decided_by, reason, client_address=None):
    """The ICMS cell refuses the upgrade and says why."""
    role_require(decided_by, Role.ICMS_CELL)
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError(
            {
                "reason": _(
                    "Give the reason for the refusal; the organisation will read it."
                )
            },
            code="reason_missing",
        )
    upgrade_request = _lock_open_upgrade_request(upgrade_request)
    account = upgrade_request.account

    upgrade_request.status = UpgradeRequestStatus.REFUSED
    upgrade_request.decided_by = decided_by
    upgrade_request.decided_at = timezone.now()
    upgrade_request.refusal_reason = reason
    upgrade_request.save(
        update_fields=["status", "decided_by", "decided_at", "refusal_reason"]
    )
    audit_record(
        action="upgrade_request.refused",
        actor=decided_by,
        subject=upgrade_request,
        organisation=account.organisation,
        access_request=_access_request_of(account),
        summary=Summary(
            "Upgrade of %(username)s refused: %(reason)s",
            username=account.username,
            reason=reason,
        ),
        client_address=client_address,
    )
    organisation_email_queue(
        key=f"upgrade_request.refused:{upgrade_request.pk}",
        template="upgrade_refused",
        organisation=account.organisation,
        context={"upgrade_request": upgrade_request, "account": account},
    )
    return upgrade_request


# Someone leaves.


def _clean_departure(account, left_on, outcome, successor):
    errors = {}
    if outcome not in DepartureOutcome.values:
        errors["outcome"] = _("Choose what becomes of the access.")
    today = timezone.localdate()
    created_on = timezone.localdate(account.created_at)
    if left_on is None:
        errors["left_on"] = _("Give the day the holder left.")
    elif left_on > today:
        errors["left_on"] = _(
            "Record a departure once the holder has left; the day cannot be in the "
            "future."
        )
    elif left_on < created_on:
        errors["left_on"] = _(
            "The account did not exist yet on that day; it was created on %(date)s."
        ) % {"date": date_format(created_on)}
    if outcome != DepartureOutcome.HANDED_OVER:
        return errors, {}

    successor = {field: (successor.get(field) or "").strip() for field in HOLDER_FIELDS}
    for field, message in (
        ("first_name", _("Give the successor's first name.")),
        ("last_name", _("Give the successor's last name.")),
        ("email", _("Give the successor's email address.")),
    ):
        if not successor[field]:
            errors[f"successor_{field}"] = message
    if successor["email"] and "successor_email" not in errors:
        try:
            validate_email(successor["email"])
        except ValidationError:
            errors["successor_email"] = _("Enter a valid email address.")
        else:
            if successor["email"].lower() == account.holder_email.lower():
                errors["successor_email"] = _(
                    "This is the address of the holder who left; give the "
                    "successor's own."
                )
            else:
                other = (
                    IcmsAccount.objects.filter(
                        organisation=account.organisation_id,
                        status=IcmsAccountStatus.ACTIVE,
                        holder_email__iexact=successor["email"],
                    )
                    .exclude(pk=account.pk)
                    .first()
                )
                if other is not None:
                    errors["successor_email"] = _(
                        "%(email)s already holds ICMS account %(username)s; each "
                        "person holds one access."
                    ) % {"email": successor["email"], "username": other.username}
    return errors, successor


@transaction.atomic
def holder_departure_record(
    *,
    account,
    recorded_by,
    left_on,
    outcome,
    successor_first_name="",
    successor_last_name="",
    successor_email="",
    successor_function="",
    client_address=None,
):
    """The holder of an account left the organisation.

    The access is either cancelled, by the cancellation rules (it stops at the
    end of the period, or of the next one when the deadline has passed), or
    handed to a successor, who becomes its holder. Either way the ICMS cell is
    asked to change the account's password.
    """
    _require_admin_of(recorded_by, account.organisation)
    errors, successor = _clean_departure(
        account,
        left_on,
        outcome,
        {
            "first_name": successor_first_name,
            "last_name": successor_last_name,
            "email": successor_email,
            "function": successor_function,
        },
    )
    if errors:
        raise ValidationError(errors)
    account = _lock_account(account)
    _require_running(account)
    subscription = account.subscription

    cancellation = None
    if outcome == DepartureOutcome.CANCELLED:
        cancellation = subscription.active_cancellation()
        if cancellation is None:
            cancellation = subscription_cancel(
                subscription=subscription,
                channel=CancellationChannel.PORTAL,
                registered_by=recorded_by,
                client_address=client_address,
            )
        elif cancellation.departures.filter(
            holder_email__iexact=account.holder_email
        ).exists():
            raise ValidationError(
                _("The departure of %(name)s is already recorded.")
                % {"name": account.holder_name},
                code="already_recorded",
            )
        # A cancellation registered before stays as it is: the departure
        # points to it and the access stops on its day.

    departure = HolderDeparture.objects.create(
        account=account,
        left_on=left_on,
        outcome=outcome,
        cancellation=cancellation,
        recorded_by=recorded_by,
        **{
            f"holder_{field}": getattr(account, f"holder_{field}")
            for field in HOLDER_FIELDS
        },
        **{f"successor_{field}": value for field, value in successor.items()},
    )
    if outcome == DepartureOutcome.HANDED_OVER:
        for field, value in successor.items():
            setattr(account, f"holder_{field}", value)
        account.save(update_fields=[f"holder_{field}" for field in HOLDER_FIELDS])
    password_change = PasswordChange.objects.create(
        departure=departure, account=account
    )

    if outcome == DepartureOutcome.HANDED_OVER:
        summary = _(
            "%(name)s left on %(date)s; %(username)s is handed over to %(successor)s."
        )
    else:
        summary = _(
            "%(name)s left on %(date)s; %(username)s is cancelled and stops after "
            "%(stop)s."
        )
    audit_record(
        action="holder.departure_recorded",
        actor=recorded_by,
        subject=departure,
        organisation=account.organisation,
        access_request=_access_request_of(account),
        summary=summary
        % {
            "name": departure.holder_name,
            "date": date_format(left_on),
            "username": account.username,
            "successor": departure.successor_name,
            "stop": date_format(cancellation.stop_date) if cancellation else "",
        },
        client_address=client_address,
        data={
            "outcome": outcome,
            "left_on": left_on.isoformat(),
            "cancellation": cancellation.pk if cancellation else None,
        },
    )
    _cell_email(
        key=f"password_change.requested:{password_change.pk}",
        template="password_change_needed",
        context={
            "departure": departure,
            "account": account,
            "organisation": account.organisation,
        },
    )
    return departure


@transaction.atomic
def password_change_mark_done(*, password_change, done_by, client_address=None):
    """The ICMS cell changed the password of the account in ICMS."""
    role_require(done_by, Role.ICMS_CELL)
    password_change = (
        PasswordChange.objects.select_for_update(of=("self",))
        .select_related("account__organisation")
        .get(pk=password_change.pk)
    )
    if password_change.status != PasswordChangeStatus.PENDING:
        raise ValidationError(
            _("This password change is already marked done."), code="already_done"
        )
    password_change.status = PasswordChangeStatus.DONE
    password_change.done_by = done_by
    password_change.done_at = timezone.now()
    password_change.save(update_fields=["status", "done_by", "done_at"])
    account = password_change.account
    audit_record(
        action="password_change.done",
        actor=done_by,
        subject=password_change,
        organisation=account.organisation,
        access_request=_access_request_of(account),
        summary=Summary(
            "Password of %(username)s changed in ICMS.", username=account.username
        ),
        client_address=client_address,
    )
    return password_change


# The yearly review of personal data.


def _line_error(account, field):
    return f"account-{account.pk}-{field}"


@transaction.atomic
def personal_data_review_confirm(
    *, organisation, confirmed_by, lines, client_address=None
):
    """An organisation admin confirms the review of every active account.

    ``lines`` holds one dict per account: ``account`` (the account or its pk),
    ``still_needed``, ``details_correct`` and ``note``. Accounts found no longer
    needed are offered for cancellation afterwards, never cancelled here; wrong
    details reach the ICMS cell, which corrects them in ICMS.
    """
    _require_admin_of(confirmed_by, organisation)
    organisation = Organisation.objects.select_for_update().get(pk=organisation.pk)
    accounts = {
        account.pk: account
        for account in duty_selectors.accounts_to_review(organisation)
    }
    if not accounts:
        raise ValidationError(
            _("The organisation has no active ICMS account to review."),
            code="nothing_to_review",
        )
    answers = {}
    for line in lines:
        account = line["account"]
        answers[getattr(account, "pk", account)] = line
    if set(answers) != set(accounts):
        raise ValidationError(
            _(
                "The accounts of the organisation changed while you reviewed them; "
                "review the list shown again."
            ),
            code="accounts_changed",
        )

    errors, cleaned = {}, []
    for pk, account in accounts.items():
        answer = answers[pk]
        still_needed = answer.get("still_needed")
        details_correct = answer.get("details_correct")
        note = (answer.get("note") or "").strip()
        if still_needed is None:
            errors[_line_error(account, "still_needed")] = _(
                "Say whether the access is still needed."
            )
        if details_correct is None:
            errors[_line_error(account, "details_correct")] = _(
                "Say whether the holder's details are right."
            )
        elif not details_correct and not note:
            errors[_line_error(account, "note")] = _(
                "Say what is wrong with the holder's details."
            )
        cleaned.append((account, bool(still_needed), bool(details_correct), note))
    if errors:
        raise ValidationError(errors)

    review = PersonalDataReview.objects.create(
        organisation=organisation,
        due_on=duty_selectors.personal_data_review_due_on(organisation),
        confirmed_by=confirmed_by,
    )
    review_lines = PersonalDataReviewLine.objects.bulk_create(
        PersonalDataReviewLine(
            review=review,
            account=account,
            still_needed=still_needed,
            details_correct=details_correct,
            note=note,
            **{
                f"holder_{field}": getattr(account, f"holder_{field}")
                for field in HOLDER_FIELDS
            },
        )
        for account, still_needed, details_correct, note in cleaned
    )
    not_needed = [
        line.account.username for line in review_lines if not line.still_needed
    ]
    to_correct = [line for line in review_lines if not line.details_correct]
    audit_record(
        action="personal_data_review.confirmed",
        actor=confirmed_by,
        subject=review,
        organisation=organisation,
        summary=Summary(
            "Personal data of %(count)s accounts reviewed; %(not_needed)s no longer "
            "needed, %(to_correct)s to correct.",
            count=len(review_lines),
            not_needed=len(not_needed),
            to_correct=len(to_correct),
        ),
        client_address=client_address,
        data={
            "accounts": len(review_lines),
            "not_needed": not_needed,
            "to_correct": [line.account.username for line in to_correct],
        },
    )
    # The portal has no form to correct a holder's details in place: a
    # hand-over replaces them, anything else reaches the ICMS cell with the
    # admin's note. A correction form keeping the old details in a history
    # row, as a departure does, would lift this.
    if to_correct:
        _cell_email(
            key=f"personal_data_review.corrections:{review.pk}",
            template="personal_data_corrections",
            context={
                "review": review,
                "organisation": organisation,
                "lines": to_correct,
            },
        )
    return review


def _due_now(organisation, due_on):
    """Lock the organisation and say whether ``due_on`` is still its due day:
    a review confirmed meanwhile moves it a year on."""
    organisation = Organisation.objects.select_for_update().get(pk=organisation.pk)
    current = duty_selectors.personal_data_review_due_on(organisation)
    has_active = duty_selectors.accounts_to_review(organisation).exists()
    return organisation, has_active and current == due_on


@transaction.atomic
def personal_data_review_remind(*, organisation, due_on, as_of):
    """Remind the organisation admins of a review due on ``due_on``, once.

    Returns False when there is nothing to send: not yet in the reminder
    window, reviewed meanwhile, already reminded, or nobody to remind.
    """
    organisation, still_due = _due_now(organisation, due_on)
    if not still_due or as_of < duty_selectors.review_reminder_from(due_on):
        return False
    key = f"personal_data_review.reminder:{organisation.pk}:{due_on.isoformat()}"
    recipients = organisation_admin_emails(organisation)
    if not recipients or OutgoingEmail.objects.filter(key=key).exists():
        return False
    email_queue(
        key=key,
        template="personal_data_review_reminder",
        to=recipients,
        language=organisation.language,
        context={
            "organisation": organisation,
            "due_on": due_on,
            "overdue": as_of > due_on,
            "count": duty_selectors.accounts_to_review(organisation).count(),
        },
    )
    audit_record(
        action="personal_data_review.reminded",
        organisation=organisation,
        summary=Summary(
            "Admins reminded of the review of personal data due on %(date)s.",
            date=due_on,
        ),
        data={"due_on": due_on.isoformat()},
    )
    return True


@transaction.atomic
def personal_data_review_escalate(*, organisation, due_on, as_of):
    """Tell the ICMS cell, once, that a review due on ``due_on`` was not done."""
    organisation, still_due = _due_now(organisation, due_on)
    if not still_due or as_of <= due_on:
        return False
    key = f"personal_data_review.overdue:{organisation.pk}:{due_on.isoformat()}"
    if OutgoingEmail.objects.filter(key=key).exists():
        return False
    last = duty_selectors.personal_data_reviews(organisation).first()
    _cell_email(
        key=key,
        template="personal_data_review_overdue",
        context={
            "organisation": organisation,
            "due_on": due_on,
            "last_review": last,
            "count": duty_selectors.accounts_to_review(organisation).count(),
            "admins": organisation_admin_emails(organisation),
        },
    )
    audit_record(
        action="personal_data_review.escalated",
        organisation=organisation,
        summary=Summary(
            "The review of personal data due on %(date)s is overdue.", date=due_on
        ),
        data={"due_on": due_on.isoformat()},
    )
    return True
