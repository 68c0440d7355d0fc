"""TCD's pages for payments and bank statements."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _

from accounts.permissions import client_address, tcd_required
from icms_portal.forms import form_add_service_error
from icms_portal.templatetags.portal import money

from . import selectors
from .models import BankImport, BankImportLine, BankImportLineStatus, PaymentSource
from .payment_forms import BankImportForm, BankLineResolveForm, PaymentForm
from .payments import bank_import_line_resolve, bank_import_upload, payment_record


def _tell_payment(request, recorded):
    """The messages of one payment: paid in full, and overpaid above all."""
    invoice = recorded.invoice
    if recorded.paid_in_full:
        messages.success(request, _("%(number)s is paid.") % {"number": invoice.number})
    if recorded.overpaid_by:
        messages.warning(
            request,
            _(
                "%(number)s is overpaid by %(amount)s: the payment is recorded; "
                "agree with the customer on a refund."
            )
            % {"number": invoice.number, "amount": money(recorded.overpaid_by)},
        )


@tcd_required
def payment_new(request, pk):
    """Record a payment received outside a bank statement."""
    invoice = get_object_or_404(selectors.invoices_visible_to(request.user), pk=pk)
    form = PaymentForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            recorded = payment_record(
                invoice=invoice,
                recorded_by=request.user,
                source=PaymentSource.MANUAL,
                client_address=client_address(request),
                **form.cleaned_data,
            )
        except ValidationError as error:
            form_add_service_error(form, error)
        else:
            messages.success(
                request,
                _("A payment of %(amount)s is recorded for %(number)s.")
                % {"amount": money(recorded.payment.amount), "number": invoice.number},
            )
            _tell_payment(request, recorded)
            return redirect("invoicing:invoice_detail", pk=invoice.pk)
    return render(
        request,
        "invoicing/payment_new.html",
        {
            "invoice": invoice,
            "form": form,
            "summary": selectors.invoice_payment_summary(invoice),
        },
    )


def _line_forms(request):
    """Settle the unmatched line a page posted, if any.

    Returns ``(forms_by_line_pk, done)``: the bound form of the posted line
    when it has errors, and whether the page should redirect to itself.
    """
    if request.method != "POST":
        return {}, False
    line_pk = request.POST.get("line", "")
    line = get_object_or_404(
        BankImportLine, pk=int(line_pk) if line_pk.isdigit() else None
    )
    form = BankLineResolveForm(request.POST, prefix=f"line-{line.pk}")
    if form.is_valid():
        try:
            recorded = bank_import_line_resolve(
                line=line,
                resolved_by=request.user,
                client_address=client_address(request),
                **form.cleaned_data,
            )
        except ValidationError as error:
            form_add_service_error(form, error)
        else:
            if recorded is None:
                messages.success(request, _("The line is closed."))
            else:
                messages.success(
                    request,
                    _("The credit of %(amount)s pays %(number)s.")
                    % {
                        "amount": money(line.amount),
                        "number": recorded.invoice.number,
                    },
                )
                _tell_payment(request, recorded)
            return {}, True
    return {line.pk: form}, False


def _with_forms(lines, forms_by_pk):
    return [
        (
            line,
            (forms_by_pk.get(line.pk) or BankLineResolveForm(prefix=f"line-{line.pk}"))
            if line.status == BankImportLineStatus.UNMATCHED
            else None,
        )
        for line in lines
    ]


@tcd_required
def payments(request):
    """The statements uploaded and the credits that wait for a person."""
    forms_by_pk, done = _line_forms(request)
    if done:
        return redirect("invoicing:payments")
    return render(
        request,
        "invoicing/payments.html",
        {
            "imports": selectors.bank_imports_recent(),
            "rows": _with_forms(selectors.bank_lines_unmatched(), forms_by_pk),
        },
    )


@tcd_required
def bank_import_new(request):
    form = BankImportForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        statement = form.cleaned_data["statement"]
        try:
            outcome = bank_import_upload(
                filename=statement.name,
                content=statement.read(),
                format=form.cleaned_data["format"],
                uploaded_by=request.user,
                client_address=client_address(request),
            )
        except ValidationError as error:
            form_add_service_error(form, error)
        else:
            counts = outcome.counts
            messages.success(
                request,
                _(
                    "Credits that paid an invoice: %(matched)s. Waiting for you "
                    "below: %(unmatched)s. Already imported: %(duplicate)s."
                )
                % counts,
            )
            for recorded in outcome.overpaid:
                _tell_payment(request, recorded)
            return redirect("invoicing:bank_import_detail", pk=outcome.bank_import.pk)
    return render(request, "invoicing/bank_import_new.html", {"form": form})


@tcd_required
def bank_import_detail(request, pk):
    bank_import = get_object_or_404(
        BankImport.objects.select_related("uploaded_by"), pk=pk
    )
    forms_by_pk, done = _line_forms(request)
    if done:
        return redirect("invoicing:bank_import_detail", pk=pk)
    return render(
        request,
        "invoicing/bank_import_detail.html",
        {
            "bank_import": bank_import,
            "rows": _with_forms(selectors.bank_import_lines(bank_import), forms_by_pk),
        },
    )
