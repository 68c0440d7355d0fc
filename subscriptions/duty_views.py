"""The pages of the organisation's duties: upgrades, departures, the yearly
review, and the ICMS cell's queues for them."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from accounts.permissions import (
    client_address,
    icms_cell_required,
    organisation_admin_required,
)
from icms_portal.forms import form_add_service_error, messages_add_service_error

from . import duties, duty_selectors, selectors, services
from .duty_forms import (
    DepartureForm,
    ReviewLineForm,
    UpgradeDecisionForm,
    UpgradeRequestForm,
)
from .models import (
    AccessLevel,
    DepartureOutcome,
    PasswordChange,
    UpgradeRequest,
    UpgradeRequestStatus,
)


@organisation_admin_required
def upgrade_request_new(request, pk):
    """Ask the ICMS cell to raise an account to administrator."""
    account = selectors.icms_account_for(request.user, pk)
    open_request = account.upgrade_requests.filter(
        status=UpgradeRequestStatus.OPEN
    ).first()
    form = UpgradeRequestForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            duties.upgrade_request_submit(
                account=account,
                requested_by=request.user,
                client_address=client_address(request),
                **form.cleaned_data,
            )
        except ValidationError as error:
            form_add_service_error(form, error)
        else:
            messages.success(
                request,
                _(
                    "Your request is sent to the ICMS cell. You will get an email "
                    "when it has decided."
                ),
            )
            return redirect("subscriptions:access_detail", pk=pk)
    return render(
        request,
        "subscriptions/duties/upgrade_request.html",
        {
            "account": account,
            "form": form,
            "open_request": open_request,
            "is_administrator": account.level == AccessLevel.ADMINISTRATOR,
        },
    )


@organisation_admin_required
def departure_record(request, pk):
    """Record that the holder left: cancel the access or hand it over."""
    account = selectors.icms_account_for(request.user, pk)
    subscription = account.subscription
    stop_date, on_time = services.cancellation_preview(subscription=subscription)
    form = DepartureForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            departure = duties.holder_departure_record(
                account=account,
                recorded_by=request.user,
                client_address=client_address(request),
                **form.cleaned_data,
            )
        except ValidationError as error:
            form_add_service_error(form, error)
        else:
            if departure.outcome == DepartureOutcome.HANDED_OVER:
                message = _(
                    "%(successor)s now holds %(username)s. The ICMS cell is asked to "
                    "change its password."
                )
            else:
                message = _(
                    "%(username)s is cancelled and stops after %(date)s. The ICMS "
                    "cell is asked to change its password."
                )
            messages.success(
                request,
                message
                % {
                    "successor": departure.successor_name,
                    "username": account.username,
                    "date": date_format(departure.cancellation.stop_date)
                    if departure.cancellation
                    else "",
                },
            )
            return redirect("subscriptions:access_detail", pk=pk)
    return render(
        request,
        "subscriptions/duties/departure.html",
        {
            "account": account,
            "subscription": subscription,
            "form": form,
            "stop_date": stop_date,
            "on_time": on_time,
            "cancellation": subscription.active_cancellation(),
        },
    )


def _decision_prefix(upgrade_request):
    return f"upgrade-{upgrade_request.pk}"


@icms_cell_required
def upgrade_queue(request):
    """Open upgrade requests, oldest first, each with its decision."""
    bound = {}
    if request.method == "POST":
        upgrade_request = get_object_or_404(
            UpgradeRequest, pk=request.POST.get("upgrade_request")
        )
        form = UpgradeDecisionForm(
            request.POST, prefix=_decision_prefix(upgrade_request)
        )
        if form.is_valid() and _decide_upgrade(request, upgrade_request, form):
            return redirect("subscriptions:upgrade_queue")
        upgrade_request.refresh_from_db()
        if upgrade_request.status != UpgradeRequestStatus.OPEN:
            # Decided by someone else meanwhile: it has left the queue.
            messages.error(
                request,
                _("This upgrade request is already %(status)s.")
                % {"status": upgrade_request.get_status_display().lower()},
            )
            return redirect("subscriptions:upgrade_queue")
        bound[upgrade_request.pk] = form
    rows = [
        (
            upgrade_request,
            bound.get(upgrade_request.pk)
            or UpgradeDecisionForm(prefix=_decision_prefix(upgrade_request)),
        )
        for upgrade_request in duty_selectors.upgrade_queue()
    ]
    return render(request, "subscriptions/duties/upgrade_queue.html", {"rows": rows})


def _decide_upgrade(request, upgrade_request, form):
    try:
        if form.cleaned_data["decision"] == UpgradeDecisionForm.APPROVE:
            duties.upgrade_request_approve(
                upgrade_request=upgrade_request,
                decided_by=request.user,
                client_address=client_address(request),
            )
            message = _("%(username)s is now administrator; the organisation is told.")
        else:
            duties.upgrade_request_refuse(
                upgrade_request=upgrade_request,
                decided_by=request.user,
                reason=form.cleaned_data["reason"],
                client_address=client_address(request),
            )
            message = _("The refusal for %(username)s is sent to the organisation.")
    except ValidationError as error:
        form_add_service_error(form, error)
        return False
    messages.success(request, message % {"username": upgrade_request.account.username})
    return True


@icms_cell_required
def password_changes(request):
    """Accounts whose holder left and whose password the cell must change."""
    if request.method == "POST":
        password_change = get_object_or_404(
            PasswordChange, pk=request.POST.get("password_change")
        )
        try:
            duties.password_change_mark_done(
                password_change=password_change,
                done_by=request.user,
                client_address=client_address(request),
            )
        except ValidationError as error:
            messages_add_service_error(request, error)
        else:
            messages.success(
                request,
                _("The password change of %(username)s is marked done.")
                % {"username": password_change.account.username},
            )
        return redirect("subscriptions:password_changes")
    return render(
        request,
        "subscriptions/duties/password_changes.html",
        {"password_changes": duty_selectors.password_changes_pending()},
    )


@organisation_admin_required
def personal_data_review(request):
    """The yearly review of every active account of the organisation."""
    organisation = request.user.organisation
    accounts = list(duty_selectors.accounts_to_review(organisation))
    forms = [
        ReviewLineForm(request.POST or None, account=account) for account in accounts
    ]
    errors = []
    if request.method == "POST" and all(form.is_valid() for form in forms):
        try:
            duties.personal_data_review_confirm(
                organisation=organisation,
                confirmed_by=request.user,
                lines=[
                    {"account": form.account, **form.cleaned_data} for form in forms
                ],
                client_address=client_address(request),
            )
        except ValidationError as error:
            errors = _show_review_errors(error, forms)
        else:
            messages.success(
                request,
                ngettext(
                    "The review of %(count)s account is recorded. Thank you.",
                    "The review of %(count)s accounts is recorded. Thank you.",
                    len(forms),
                )
                % {"count": len(forms)},
            )
            return redirect("subscriptions:personal_data_review")
    due_on = duty_selectors.personal_data_review_due_on(organisation)
    return render(
        request,
        "subscriptions/duties/review.html",
        {
            "forms": forms,
            "errors": errors,
            "due_on": due_on,
            "overdue": due_on is not None and due_on < timezone.localdate(),
            "reviews": duty_selectors.personal_data_reviews(organisation)[:5],
            "to_cancel": duty_selectors.accounts_to_offer_cancellation(organisation),
        },
    )


def _show_review_errors(error, forms):
    """Put each error of the service beside the account's field it concerns;
    return the others, for the top of the page."""
    by_prefix = {form.prefix: form for form in forms}
    if not hasattr(error, "error_dict"):
        return error.messages
    others = []
    for key, field_errors in error.error_dict.items():
        prefix, _separator, field = key.rpartition("-")
        form = by_prefix.get(prefix)
        if form is not None and field in form.fields:
            form.add_error(field, field_errors)
        else:
            others.extend(message for e in field_errors for message in e.messages)
    return others
