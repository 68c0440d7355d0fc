from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import FileResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.models import Organisation, Role
from accounts.permissions import client_address, role_required, tcd_required
from icms_portal.forms import messages_add_service_error

from . import selectors, services
from .documents import invoice_pdf_ensure
from .ubl import UblError, invoice_ubl_ensure

invoice_reader_required = role_required(Role.ORGANISATION_ADMIN, Role.TCD)


@invoice_reader_required
def invoice_list(request):
    return render(
        request,
        "invoicing/invoice_list.html",
        {"invoices": selectors.invoices_visible_to(request.user)},
    )


@invoice_reader_required
def invoice_detail(request, pk):
    invoice = get_object_or_404(selectors.invoices_visible_to(request.user), pk=pk)
    return render(
        request,
        "invoicing/invoice_detail.html",
        {
            "invoice": invoice,
            "lines": invoice.lines.all(),
            "vat": invoice.vat_breakdown(),
        },
    )


@invoice_reader_required
def invoice_download(request, pk):
    invoice = get_object_or_404(selectors.invoices_visible_to(request.user), pk=pk)
    invoice_pdf_ensure(invoice)
    invoice.refresh_from_db(fields=["pdf"])
    return FileResponse(
        invoice.pdf.open("rb"),
        as_attachment=True,
        filename=f"{invoice.number}.pdf",
        content_type="application/pdf",
    )


@invoice_reader_required
def invoice_ubl_download(request, pk):
    invoice = get_object_or_404(selectors.invoices_visible_to(request.user), pk=pk)
    try:
        invoice_ubl_ensure(invoice)
    except UblError as error:
        messages.error(
            request, _("The e-invoice cannot be made: %(reason)s") % {"reason": error}
        )
        return redirect("invoicing:invoice_detail", pk=invoice.pk)
    invoice.refresh_from_db(fields=["ubl"])
    return FileResponse(
        invoice.ubl.open("rb"),
        as_attachment=True,
        filename=f"{invoice.number}.xml",
        content_type="application/xml",
    )


@tcd_required
def invoicing_queue(request):
    return render(
        request,
        "invoicing/invoicing_queue.html",
        {"groups": selectors.invoicing_queue()},
    )


@tcd_required
@require_POST
def invoice_issue(request):
    organisation = get_object_or_404(Organisation, pk=request.POST.get("organisation"))
    period_ids = [value for value in request.POST.getlist("period") if value.isdigit()]
    try:
        invoice = services.invoice_issue(
            organisation=organisation,
            period_ids=[int(value) for value in period_ids],
            issued_by=request.user,
            client_address=client_address(request),
        )
    except ValidationError as error:
        messages_add_service_error(request, error)
        return redirect("invoicing:queue")
    messages.success(
        request,
        _("Invoice %(number)s issued to %(organisation)s; it is being emailed.")
        % {"number": invoice.number, "organisation": organisation},
    )
    return redirect("invoicing:invoice_detail", pk=invoice.pk)
