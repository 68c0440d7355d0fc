"""TCD's invoicing workbench: invoice runs, prices, the base-package ledger and
credit notes."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Count, Q
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _

from accounts.models import Organisation
from accounts.permissions import client_address, tcd_required
from icms_portal.forms import form_add_service_error, messages_add_service_error
from subscriptions.models import IcmsAccountStatus

from . import prices, runs, services
from .forms import (
    ContractingAuthorityForm,
    CreditNoteForm,
    FrameworkAgreementForm,
    InvoiceRunForm,
    PriceAmendmentForm,
)
from .models import ContractingAuthority, Invoice, InvoiceKind, InvoiceRun


@tcd_required
def run_list(request):
    form = InvoiceRunForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            run = runs.invoice_run_draft(
                as_of=form.cleaned_data["as_of"],
                created_by=request.user,
                client_address=client_address(request),
            )
        except ValidationError as error:
            form_add_service_error(form, error)
        else:
            return redirect("invoicing:run_detail", pk=run.pk)
    return render(
        request,
        "invoicing/run_list.html",
        {"form": form, "runs": InvoiceRun.objects.annotate(items_count=Count("items"))},
    )


@tcd_required
def run_detail(request, pk):
    run = get_object_or_404(InvoiceRun, pk=pk)
    if request.method == "POST":
        action = request.POST.get("action")
        try:
            if action == "start":
                runs.invoice_run_start(
                    run=run,
                    started_by=request.user,
                    client_address=client_address(request),
                )
                messages.success(request, _("The run is issuing its invoices."))
            elif action == "discard":
                runs.invoice_run_discard(run=run, discarded_by=request.user)
                messages.success(request, _("The draft is discarded."))
        except ValidationError as error:
            messages_add_service_error(request, error)
        return redirect("invoicing:run_detail", pk=pk)
    return render(
        request,
        "invoicing/run_detail.html",
        {"run": run, "progress": runs.invoice_run_progress(run)},
    )


@tcd_required
def price_list(request):
    """Contracting authorities, their agreements and amendments, and the forms
    to record new ones."""
    forms_by_name = {
        "authority": ContractingAuthorityForm(prefix="authority"),
        "agreement": FrameworkAgreementForm(prefix="agreement"),
        "amendment": PriceAmendmentForm(prefix="amendment"),
    }
    if request.method == "POST":
        which = request.POST.get("form")
        if which in forms_by_name:
            form_class = type(forms_by_name[which])
            form = form_class(request.POST, prefix=which)
            forms_by_name[which] = form
            if form.is_valid() and _record_price(request, which, form):
                return redirect("invoicing:price_list")
    authorities = ContractingAuthority.objects.prefetch_related(
        "agreements__amendments"
    ).annotate(organisations_count=Count("organisations"))
    return render(
        request,
        "invoicing/price_list.html",
        {"authorities": authorities, **forms_by_name},
    )


def _record_price(request, which, form):
    create = {
        "authority": prices.contracting_authority_create,
        "agreement": prices.framework_agreement_create,
        "amendment": prices.price_amendment_add,
    }[which]
    try:
        create(
            created_by=request.user,
            client_address=client_address(request),
            **form.cleaned_data,
        )
    except ValidationError as error:
        form_add_service_error(form, error)
        return False
    messages.success(request, _("Recorded."))
    return True


@tcd_required
def base_package_ledger(request):
    """Per organisation: what the distribution scheme gives, what is in use,
    and the additional accesses that are invoiced."""
    running = Q(icms_accounts__status=IcmsAccountStatus.ACTIVE)
    organisations = Organisation.objects.select_related(
        "contracting_authority"
    ).annotate(
        base_in_use=Count(
            "icms_accounts", filter=running & Q(icms_accounts__is_base_package=True)
        ),
        additional=Count(
            "icms_accounts", filter=running & Q(icms_accounts__is_base_package=False)
        ),
    )
    organisations = list(organisations)
    for organisation in organisations:
        organisation.base_free = (
            organisation.base_package_allocation - organisation.base_in_use
        )
        organisation.base_over = -organisation.base_free
    return render(
        request, "invoicing/base_package_ledger.html", {"organisations": organisations}
    )


@tcd_required
def credit_note_new(request, pk):
    invoice = get_object_or_404(Invoice, pk=pk, kind=InvoiceKind.INVOICE)
    form = CreditNoteForm(request.POST or None, invoice=invoice)
    if request.method == "POST" and form.is_valid():
        try:
            credit_note = services.credit_note_issue(
                invoice=invoice,
                issued_by=request.user,
                reason=form.cleaned_data["reason"],
                line_ids=form.cleaned_data["lines"],
                client_address=client_address(request),
            )
        except ValidationError as error:
            form_add_service_error(form, error)
        else:
            messages.success(
                request,
                _("Credit note %(number)s issued; it is being emailed.")
                % {"number": credit_note.number},
            )
            return redirect("invoicing:invoice_detail", pk=credit_note.pk)
    return render(
        request, "invoicing/credit_note_new.html", {"invoice": invoice, "form": form}
    )
