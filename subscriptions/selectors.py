from django.utils import timezone

from accounts.permissions import scope_to_user

from . import periods
from .models import IcmsAccount, IcmsAccountStatus, SubscriptionStatus


def icms_accounts_visible_to(user):
    return scope_to_user(
        IcmsAccount.objects.select_related(
            "organisation", "subscription"
        ).prefetch_related("subscription__cancellations"),
        user,
    ).order_by("organisation__legal_name", "username")


def access_calendar(account, today=None):
    """The dates a person needs to see for one access, as of today in Brussels."""
    today = today or timezone.localdate()
    subscription = account.subscription
    current = periods.period_on(subscription.activation_date, today)
    standing = next(
        (c for c in subscription.cancellations.all() if c.withdrawn_at is None), None
    )
    next_start = periods.period(subscription.activation_date, current.index + 1).start
    # A late cancellation stops the access after the next period: it renews
    # once more first.
    renews = standing is None or standing.stop_date >= next_start
    return {
        "current_period": current,
        "next_renewal": next_start if renews else None,
        "last_day_to_cancel": current.last_day_to_cancel,
        # A closure ends the access at once, whatever a cancellation said.
        "cancellation": standing
        if subscription.status == SubscriptionStatus.ACTIVE
        else None,
        "not_started": today < subscription.activation_date,
    }


def accounts_to_remove():
    return (
        IcmsAccount.objects.filter(
            status__in=[IcmsAccountStatus.TO_BE_REMOVED, IcmsAccountStatus.CLOSED]
        )
        .select_related("organisation", "subscription")
        .order_by("subscription__ended_on", "username")
    )


def icms_account_for(user, pk):
    """The ICMS account ``pk`` if the user may see it; another organisation's
    account is a 404, as if it did not exist."""
    from django.shortcuts import get_object_or_404

    return get_object_or_404(icms_accounts_visible_to(user), pk=pk)
