"""What the pages and jobs of the organisation's duties read.

The yearly review of personal data follows two rules chosen for the portal:

- a review is due 365 days after the organisation's last one, or, before its
  first, 365 days after its first ICMS account was created;
- the organisation admins are reminded from 30 days before that day, and the
  ICMS cell is told once the day has passed without a review.

Only an organisation with at least one active ICMS account has a review due.
"""

from datetime import timedelta

from django.db.models import Exists, Max, Min, OuterRef
from django.utils import timezone

from accounts.models import Organisation

from .models import (
    Cancellation,
    IcmsAccount,
    IcmsAccountStatus,
    PasswordChange,
    PasswordChangeStatus,
    PersonalDataReview,
    SubscriptionStatus,
    UpgradeRequest,
    UpgradeRequestStatus,
)

REVIEW_INTERVAL = timedelta(days=365)
REVIEW_REMINDER_DAYS = 30


def review_due_on(*, last_review_at, first_account_at):
    """The day the next review is due, from the moments it counts from."""
    start = last_review_at or first_account_at
    if start is None:
        return None
    return timezone.localdate(start) + REVIEW_INTERVAL


def review_reminder_from(due_on):
    return due_on - timedelta(days=REVIEW_REMINDER_DAYS)


def personal_data_review_due_on(organisation):
    """The day the organisation's next review is due; None without accounts."""
    last = organisation.personal_data_reviews.aggregate(at=Max("confirmed_at"))["at"]
    first = organisation.icms_accounts.aggregate(at=Min("created_at"))["at"]
    return review_due_on(last_review_at=last, first_account_at=first)


def personal_data_reviews_due():
    """``(organisation, due_on)`` for every organisation with an active account."""
    organisations = (
        Organisation.objects.filter(
            pk__in=IcmsAccount.objects.filter(status=IcmsAccountStatus.ACTIVE).values(
                "organisation_id"
            )
        )
        .annotate(
            first_account_at=Min("icms_accounts__created_at"),
            last_review_at=Max("personal_data_reviews__confirmed_at"),
        )
        .order_by("pk")
    )
    return [
        (
            organisation,
            review_due_on(
                last_review_at=organisation.last_review_at,
                first_account_at=organisation.first_account_at,
            ),
        )
        for organisation in organisations
    ]


def accounts_to_review(organisation):
    """The accounts a review covers: every active one of the organisation."""
    return IcmsAccount.objects.filter(
        organisation=organisation, status=IcmsAccountStatus.ACTIVE
    ).order_by("username")


def personal_data_reviews(organisation):
    return (
        PersonalDataReview.objects.filter(organisation=organisation)
        .select_related("confirmed_by")
        .prefetch_related("lines__account")
    )


def accounts_to_offer_cancellation(organisation):
    """Accounts the last review found no longer needed and that still run
    without a cancellation: the portal offers to cancel them, never does."""
    last = PersonalDataReview.objects.filter(organisation=organisation).first()
    if last is None:
        return IcmsAccount.objects.none()
    return (
        IcmsAccount.objects.filter(
            review_lines__review=last,
            review_lines__still_needed=False,
            status=IcmsAccountStatus.ACTIVE,
            subscription__status=SubscriptionStatus.ACTIVE,
        )
        .exclude(
            Exists(
                Cancellation.objects.filter(
                    subscription__account=OuterRef("pk"), withdrawn_at__isnull=True
                )
            )
        )
        .order_by("username")
    )


def upgrade_queue():
    """Open upgrade requests, the oldest first."""
    return (
        UpgradeRequest.objects.filter(status=UpgradeRequestStatus.OPEN)
        .select_related("account__organisation", "requested_by")
        .order_by("requested_at", "pk")
    )


def password_changes_pending():
    return (
        PasswordChange.objects.filter(status=PasswordChangeStatus.PENDING)
        .select_related(
            "account__organisation", "departure__recorded_by", "departure__cancellation"
        )
        .order_by("requested_at", "pk")
    )


def account_duties(account):
    """The level history, holder history and reviews an account's page shows."""
    upgrade_requests = list(
        account.upgrade_requests.select_related("requested_by", "decided_by")
    )
    return {
        "upgrade_requests": upgrade_requests,
        "open_upgrade_request": next(
            (r for r in upgrade_requests if r.status == UpgradeRequestStatus.OPEN),
            None,
        ),
        "departures": account.departures.select_related(
            "recorded_by", "cancellation", "password_change__done_by"
        ),
        "review_lines": account.review_lines.select_related(
            "review__confirmed_by"
        ).order_by("-review__confirmed_at"),
    }
