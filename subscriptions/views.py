from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.models import Role
from accounts.permissions import (
    any_role_required,
    client_address,
    icms_cell_required,
    organisation_admin_required,
    role_required,
    tcd_required,
)
from icms_portal.forms import form_add_service_error, messages_add_service_error

from . import duty_selectors, selectors, services
from .forms import ClosureForm, InboundResolveForm
from .models import CancellationChannel, InboundEmail, InboundEmailStatus


@any_role_required
def access_list(request):
    """Every ICMS account the user may see, with its current period and deadline."""
    accounts = selectors.icms_accounts_visible_to(request.user)
    rows = [(account, selectors.access_calendar(account)) for account in accounts]
    return render(request, "subscriptions/access_list.html", {"rows": rows})


@any_role_required
def access_detail(request, pk):
    account = selectors.icms_account_for(request.user, pk)
    subscription = account.subscription
    return render(
        request,
        "subscriptions/access_detail.html",
        {
            "account": account,
            "subscription": subscription,
            "dates": selectors.access_calendar(account),
            "periods": subscription.periods.all(),
            "cancellations": subscription.cancellations.select_related(
                "registered_by", "withdrawn_by"
            ),
            "duties": duty_selectors.account_duties(account),
        },
    )


@organisation_admin_required
def access_cancel(request, pk):
    """Cancel one access, after stating when it stops."""
    account = selectors.icms_account_for(request.user, pk)
    subscription = account.subscription
    stop_date, on_time = services.cancellation_preview(subscription=subscription)
    if request.method == "POST":
        try:
            cancellation = services.subscription_cancel(
                subscription=subscription,
                channel=CancellationChannel.PORTAL,
                registered_by=request.user,
                client_address=client_address(request),
            )
        except ValidationError as error:
            messages_add_service_error(request, error)
        else:
            messages.success(
                request,
                _("The cancellation of %(username)s is registered.")
                % {"username": account.username},
            )
            if cancellation.stop_date != stop_date:
                messages.warning(
                    request, _("The stop date changed while you confirmed.")
                )
            return redirect("subscriptions:access_detail", pk=pk)
    return render(
        request,
        "subscriptions/access_cancel.html",
        {
            "account": account,
            "subscription": subscription,
            "stop_date": stop_date,
            "on_time": on_time,
            "dates": selectors.access_calendar(account),
        },
    )


@role_required(Role.ORGANISATION_ADMIN, Role.TCD)
@require_POST
def cancellation_withdraw(request, pk):
    account = selectors.icms_account_for(request.user, pk)
    cancellation = account.subscription.active_cancellation()
    if cancellation is None:
        messages.info(request, _("This access has no cancellation to withdraw."))
        return redirect("subscriptions:access_detail", pk=pk)
    try:
        services.cancellation_withdraw(
            cancellation=cancellation,
            withdrawn_by=request.user,
            client_address=client_address(request),
        )
    except ValidationError as error:
        messages_add_service_error(request, error)
    else:
        messages.success(request, _("The cancellation is withdrawn."))
    return redirect("subscriptions:access_detail", pk=pk)


@tcd_required
def access_close(request, pk):
    account = selectors.icms_account_for(request.user, pk)
    form = ClosureForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.subscription_close(
                subscription=account.subscription,
                closed_by=request.user,
                client_address=client_address(request),
                **form.cleaned_data,
            )
        except ValidationError as error:
            form_add_service_error(form, error)
        else:
            messages.success(
                request,
                _("Access %(username)s is closed.") % {"username": account.username},
            )
            return redirect("subscriptions:access_detail", pk=pk)
    return render(
        request, "subscriptions/access_close.html", {"account": account, "form": form}
    )


@icms_cell_required
def removals(request):
    """ICMS accounts whose access has ended and that the cell must remove."""
    if request.method == "POST":
        account = get_object_or_404(
            selectors.icms_accounts_visible_to(request.user),
            pk=request.POST.get("account"),
        )
        try:
            services.icms_account_mark_removed(
                account=account,
                removed_by=request.user,
                client_address=client_address(request),
            )
        except ValidationError as error:
            messages_add_service_error(request, error)
        else:
            messages.success(
                request,
                _("%(username)s is marked removed.") % {"username": account.username},
            )
        return redirect("subscriptions:removals")
    return render(
        request,
        "subscriptions/removals.html",
        {"accounts": selectors.accounts_to_remove()},
    )


@tcd_required
def inbound_review(request):
    """Inbound emails that did not register a cancellation by themselves."""
    forms_by_pk = {}
    if request.method == "POST":
        inbound = get_object_or_404(
            InboundEmail,
            pk=request.POST.get("inbound"),
            status=InboundEmailStatus.REVIEW,
        )
        form = InboundResolveForm(request.POST, prefix=f"inbound-{inbound.pk}")
        forms_by_pk[inbound.pk] = form
        if form.is_valid():
            try:
                services.inbound_email_resolve(
                    inbound=inbound,
                    reviewed_by=request.user,
                    client_address=client_address(request),
                    **form.cleaned_data,
                )
            except ValidationError as error:
                form_add_service_error(form, error)
            else:
                messages.success(request, _("The message is dealt with."))
                return redirect("subscriptions:inbound_review")
    waiting = InboundEmail.objects.filter(status=InboundEmailStatus.REVIEW)
    rows = [
        (
            inbound,
            forms_by_pk.get(inbound.pk)
            or InboundResolveForm(prefix=f"inbound-{inbound.pk}"),
        )
        for inbound in waiting
    ]
    return render(request, "subscriptions/inbound_review.html", {"rows": rows})
