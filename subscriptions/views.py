from django.shortcuts import render

from accounts.permissions import any_role_required

from . import selectors


@any_role_required
def access_list(request):
    """Every ICMS account the user may see, with its current period and deadline."""
    accounts = selectors.icms_accounts_visible_to(request.user)
    rows = [(account, selectors.access_calendar(account)) for account in accounts]
    return render(request, "subscriptions/access_list.html", {"rows": rows})
