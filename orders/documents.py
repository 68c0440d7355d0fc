"""The completed order form as a PDF, attached to the email both mailboxes receive."""

from icms_portal.documents import pdf_render
from invoicing.documents import vat_number_format

from .models import OrderForm


def order_form_pdf(order_form) -> bytes:
    """Render the order form in its organisation's language."""
    access_request = order_form.access_request
    organisation = access_request.organisation
    return pdf_render(
        template="documents/order_form.html",
        context={
            "order_form": order_form,
            "access_request": access_request,
            "organisation": organisation,
            "lines": list(order_form.lines.all()),
            "billing_vat_number": vat_number_format(order_form.billing_vat_number),
        },
        language=organisation.language,
    )


def order_form_attachment(order_form_id):
    """``(filename, content, mimetype)`` for the email that sends an order form.

    An order form does not change once completed, so it is rendered again for
    each email rather than stored.
    """
    order_form = OrderForm.objects.select_related(
        "access_request__organisation__contracting_authority",
        "access_request__requested_by",
        "issued_by",
        "submitted_by",
    ).get(pk=order_form_id)
    return f"{order_form.reference}.pdf", order_form_pdf(order_form), "application/pdf"
