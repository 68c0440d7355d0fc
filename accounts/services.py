"""Reports of suspicious situations, and portal users who leave."""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from audit.services import Summary, audit_record
from notifications.services import email_queue

from .models import (
    Role,
    SuspiciousReport,
    SuspiciousReportStatus,
    SuspiciousReportStatusChange,
    User,
)
from .permissions import role_require, scope_to_user

# The changes TCD may make to a report's status. A closed report is reopened
# when the situation turns out not to be over.
STATUS_CHANGES = {
    SuspiciousReportStatus.RECEIVED: {
        SuspiciousReportStatus.INVESTIGATING,
        SuspiciousReportStatus.CLOSED,
    },
    SuspiciousReportStatus.INVESTIGATING: {SuspiciousReportStatus.CLOSED},
    SuspiciousReportStatus.CLOSED: {SuspiciousReportStatus.INVESTIGATING},
}


def _icms_account_named(username, reported_by):
    from subscriptions.models import IcmsAccount

    accounts = scope_to_user(IcmsAccount.objects.all(), reported_by)
    account = accounts.filter(username__iexact=username).first()
    if account is None:
        if reported_by.role == Role.ORGANISATION_ADMIN:
            message = _("No ICMS account of your organisation has this user name.")
        else:
            message = _("No ICMS account has this user name.")
        raise ValidationError({"username": message}, code="unknown_account")
    return account


@transaction.atomic
def suspicious_report_submit(
    *, reported_by, description, happened_at, username="", client_address=None
):
    """Anyone logged in reports a suspicious situation; the helpdesk gets it at
    once and the reporter a receipt."""
    role_require(reported_by, *Role.values)
    errors = {}
    description = (description or "").strip()
    if not description:
        errors["description"] = _("Describe what happened.")
    if happened_at is None:
        errors["happened_at"] = _("Say when it happened, as near as you know.")
    elif happened_at > timezone.now():
        errors["happened_at"] = _("The moment it happened cannot be in the future.")
    account = None
    username = (username or "").strip()
    if username:
        try:
            account = _icms_account_named(username, reported_by)
        except ValidationError as error:
            errors.update(error.message_dict)
    if errors:
        raise ValidationError(errors)

    report = SuspiciousReport.objects.create(
        reported_by=reported_by,
        organisation=reported_by.organisation,
        description=description,
        happened_at=happened_at,
        icms_account=account,
    )
    audit_record(
        action="suspicious_report.submitted",
        actor=reported_by,
        subject=report,
        organisation=reported_by.organisation,
        summary=Summary(
            "Suspicious situation reported: %(reference)s.", reference=report.reference
        ),
        client_address=client_address,
        data={"icms_account": account.username if account else None},
    )
    context = {"report": report, "reporter": reported_by, "account": account}
    email_queue(
        key=f"suspicious_report.received:{report.pk}",
        template="suspicious_report_received",
        to=[settings.HELPDESK_MAILBOX],
        language=settings.MAILBOX_LANGUAGE,
        context=context,
    )
    email_queue(
        key=f"suspicious_report.receipt:{report.pk}",
        template="suspicious_report_receipt",
        to=[reported_by.email],
        language=reported_by.language,
        context=context,
    )
    return report


@transaction.atomic
def suspicious_report_set_status(
    *, report, changed_by, status, note="", client_address=None
):
    """TCD moves a report on: investigating, closed (with a note), reopened."""
    role_require(changed_by, Role.TCD)
    note = (note or "").strip()
    if status not in SuspiciousReportStatus.values:
        raise ValidationError({"status": _("Choose the new status.")})
    if status == SuspiciousReportStatus.CLOSED and not note:
        raise ValidationError(
            {"note": _("Say what was found or done before closing the report.")},
            code="note_missing",
        )
    report = SuspiciousReport.objects.select_for_update().get(pk=report.pk)
    current = SuspiciousReportStatus(report.status)
    new = SuspiciousReportStatus(status)
    if new not in STATUS_CHANGES[current]:
        raise ValidationError(
            {
                "status": _("A report that is %(current)s cannot become %(new)s.")
                % {"current": current.label.lower(), "new": new.label.lower()}
            },
            code="wrong_status",
        )

    SuspiciousReportStatusChange.objects.create(
        report=report,
        from_status=current,
        to_status=new,
        note=note,
        changed_by=changed_by,
    )
    report.status = new
    report.status_note = note
    report.save(update_fields=["status", "status_note"])
    audit_record(
        action="suspicious_report.status_changed",
        actor=changed_by,
        subject=report,
        organisation=report.organisation,
        summary=Summary(
            "%(reference)s: %(status)s.", reference=report.reference, status=new.label
        ),
        client_address=client_address,
        data={"from": current.value, "to": new.value},
    )
    return report


@transaction.atomic
def portal_user_deactivate(*, user, deactivated_by, client_address=None):
    """An organisation admin deactivates a colleague who left.

    The portal user is never deleted: their name stays on what they did. They
    can no longer log in, and a session they still have ends at its next
    request. An organisation always keeps one active admin.
    """
    role_require(deactivated_by, Role.ORGANISATION_ADMIN)
    if (
        user.role != Role.ORGANISATION_ADMIN
        or user.organisation_id != deactivated_by.organisation_id
    ):
        raise ValidationError(
            _("This person is not a portal user of your organisation."),
            code="other_organisation",
        )
    if user.pk == deactivated_by.pk:
        raise ValidationError(
            _(
                "You cannot deactivate yourself; another admin of your organisation "
                "can."
            ),
            code="self",
        )
    # Lock every active admin of the organisation, so that two admins who
    # deactivate each other at the same moment cannot leave it with none.
    active = set(
        User.objects.select_for_update()
        .filter(
            organisation=deactivated_by.organisation_id,
            role=Role.ORGANISATION_ADMIN,
            is_active=True,
        )
        .values_list("pk", flat=True)
    )
    if user.pk not in active:
        raise ValidationError(
            _("%(name)s is already deactivated.") % {"name": user.full_name},
            code="already_inactive",
        )
    if not active - {user.pk}:
        raise ValidationError(
            _(
                "%(name)s is the last active admin of the organisation; nobody would "
                "be left to manage its accesses."
            )
            % {"name": user.full_name},
            code="last_admin",
        )
    if deactivated_by.pk not in active:
        raise ValidationError(
            _("Your portal account is no longer active."), code="inactive"
        )

    user.is_active = False
    user.save(update_fields=["is_active"])
    audit_record(
        action="portal_user.deactivated",
        actor=deactivated_by,
        subject=user,
        organisation=user.organisation,
        summary=Summary(
            "%(name)s (%(email)s) can no longer log in.",
            name=user.full_name,
            email=user.email,
        ),
        client_address=client_address,
    )
    return user
