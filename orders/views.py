from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _

from accounts.permissions import (
    any_role_required,
    client_address,
    icms_cell_required,
    organisation_admin_required,
    tcd_required,
)
from icms_portal.forms import form_add_service_error
from invoicing.services import periods_to_invoice
from subscriptions.forms import IcmsAccountForm
from subscriptions.services import icms_account_create

from . import selectors, services
from .documents import order_form_pdf
from .forms import AccessRequestForm, BillingForm, DecisionForm, OrderLineFormSet
from .models import AccessRequestStatus


def _visible_request(request, pk):
    return get_object_or_404(selectors.access_requests_visible_to(request.user), pk=pk)


@any_role_required
def request_list(request):
    access_requests = selectors.access_requests_visible_to(request.user).select_related(
        "order_form"
    )
    return render(
        request, "orders/request_list.html", {"access_requests": access_requests}
    )


@organisation_admin_required
def request_new(request):
    form = AccessRequestForm(
        request.POST or None,
        initial={"phone": request.user.phone, "function": request.user.function},
    )
    if request.method == "POST" and form.is_valid():
        try:
            access_request = services.access_request_submit(
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
            return redirect("orders:request_detail", pk=access_request.pk)
    return render(request, "orders/request_new.html", {"form": form})


@any_role_required
def request_detail(request, pk):
    access_request = _visible_request(request, pk)
    order_form = getattr(access_request, "order_form", None)
    context = {
        "access_request": access_request,
        "order_form": order_form,
        "lines": selectors.order_lines_with_accounts(order_form) if order_form else [],
        "timeline": selectors.access_request_timeline(access_request),
    }
    return render(request, "orders/request_detail.html", context)


@organisation_admin_required
def order_form_complete(request, pk):
    access_request = _visible_request(request, pk)
    if access_request.status != AccessRequestStatus.ORDER_FORM_ISSUED:
        messages.info(request, _("This order form is not waiting for you."))
        return redirect("orders:request_detail", pk=pk)
    order_form = access_request.order_form
    quantity = order_form.quantity
    billing = BillingForm(
        request.POST or None,
        initial=BillingForm.initial_for(access_request.organisation),
    )
    lines = OrderLineFormSet(
        request.POST or None, prefix="line", initial=[{}] * quantity
    )
    if request.method == "POST":
        billing_valid = billing.is_valid()
        lines_valid = lines.is_valid()
        if billing_valid and lines_valid:
            try:
                services.order_form_submit(
                    order_form=order_form,
                    submitted_by=request.user,
                    lines=[line.cleaned_data for line in lines.forms],
                    billing=billing.cleaned_data,
                    conditions_accepted=billing.cleaned_data["conditions_accepted"],
                    client_address=client_address(request),
                )
            except ValidationError as error:
                _show_order_form_errors(error, billing, lines)
            else:
                messages.success(
                    request,
                    _(
                        "Your order form is sent to the ICMS cell and to TCD. The cell "
                        "now creates the accounts."
                    ),
                )
                return redirect("orders:request_detail", pk=pk)
    return render(
        request,
        "orders/order_form_complete.html",
        {
            "access_request": access_request,
            "order_form": order_form,
            "billing": billing,
            "lines": lines,
        },
    )


def _show_order_form_errors(error, billing, lines):
    """Put each error of the service beside the line or field it concerns."""
    line_errors = []
    for field, errors in (
        error.error_dict.items() if hasattr(error, "error_dict") else []
    ):
        if field.startswith("line-"):
            number = int(field.removeprefix("line-"))
            if number <= len(lines.forms):
                lines.forms[number - 1].add_error(None, errors)
                continue
        line_errors.append((field, errors))
    if hasattr(error, "error_dict"):
        form_add_service_error(billing, ValidationError(dict(line_errors)))
    else:
        billing.add_error(None, error)


@any_role_required
def order_form_download(request, pk):
    access_request = _visible_request(request, pk)
    order_form = getattr(access_request, "order_form", None)
    if order_form is None or not order_form.is_submitted:
        return redirect("orders:request_detail", pk=pk)
    response = HttpResponse(order_form_pdf(order_form), content_type="application/pdf")
    response["Content-Disposition"] = (
        f'attachment; filename="{order_form.reference}.pdf"'
    )
    return response


@icms_cell_required
def cell_queue(request):
    return render(
        request,
        "orders/cell_queue.html",
        {
            "queue": selectors.cell_queue(),
            "awaiting_accounts": selectors.order_forms_awaiting_accounts(),
        },
    )


@icms_cell_required
def cell_request(request, pk):
    """The cell's page for one request: the decision, then the accounts."""
    access_request = get_object_or_404(
        selectors.access_requests_visible_to(request.user), pk=pk
    )
    order_form = getattr(access_request, "order_form", None)
    lines = list(selectors.order_lines_with_accounts(order_form)) if order_form else []
    account_forms = {
        line.pk: IcmsAccountForm.for_line(line)
        for line in lines
        if not hasattr(line, "icms_account")
    }
    decision = DecisionForm(initial={"quantity": access_request.quantity})

    if request.method == "POST":
        action = request.POST.get("action", "")
        if action == "decide":
            decision = DecisionForm(request.POST)
            if decision.is_valid():
                try:
                    _decide(request, access_request, decision.cleaned_data)
                except ValidationError as error:
                    form_add_service_error(decision, error)
                else:
                    return redirect("orders:cell_request", pk=pk)
        elif action.startswith("create_account:"):
            line = next(
                (li for li in lines if str(li.pk) == action.split(":", 1)[1]), None
            )
            if line is not None and line.pk in account_forms:
                form = IcmsAccountForm.for_line(line, request.POST)
                account_forms[line.pk] = form
                if _create_account(request, line, form):
                    return redirect("orders:cell_request", pk=pk)

    context = {
        "access_request": access_request,
        "order_form": order_form,
        "decision": decision,
        "lines": [(line, account_forms.get(line.pk)) for line in lines],
        "timeline": selectors.access_request_timeline(access_request),
    }
    return render(request, "orders/cell_request.html", context)


def _create_account(request, line, form):
    if not form.is_valid():
        return False
    try:
        account = icms_account_create(
            order_line=line,
            created_by=request.user,
            client_address=client_address(request),
            **form.cleaned_data,
        )
    except ValidationError as error:
        form_add_service_error(form, error)
        return False
    messages.success(
        request,
        _("ICMS account %(username)s created for %(name)s.")
        % {"username": account.username, "name": line.full_name},
    )
    return True


def _decide(request, access_request, data):
    if data["decision"] == DecisionForm.ISSUE:
        services.access_request_issue_order_form(
            access_request=access_request,
            decided_by=request.user,
            quantity=data.get("quantity"),
            message=data.get("message", ""),
            client_address=client_address(request),
        )
        messages.success(request, _("The order form is sent to the organisation."))
    else:
        services.access_request_refuse(
            access_request=access_request,
            decided_by=request.user,
            reason=data["reason"],
            client_address=client_address(request),
        )
        messages.success(request, _("The refusal is sent to the organisation."))


@tcd_required
def tcd_workbench(request):
    periods = list(periods_to_invoice())
    organisations = {period.subscription.account.organisation for period in periods}
    return render(
        request,
        "orders/tcd_workbench.html",
        {
            "order_forms": selectors.completed_order_forms(),
            "periods_count": len(periods),
            "organisations_count": len(organisations),
        },
    )
