"""The invoice as a PDF: rendered once, stored with the invoice, sent as is."""

import logging

from django.core.files.base import ContentFile
from stdnum import iban

from accounts.models import enterprise_number_format
from icms_portal.documents import pdf_render

from .models import Invoice

logger = logging.getLogger(__name__)


def vat_number_format(vat_number):
    """``BE0403170701`` → ``BE 0403.170.701``; any other spelling as it is."""
    country, digits = vat_number[:2], vat_number[2:]
    if country == "BE" and len(digits) == 10 and digits.isdigit():
        return f"BE {enterprise_number_format(digits)}"
    return vat_number


def _context(invoice):
    supplier = invoice.supplier
    enterprise_number = supplier.get("enterprise_number", "")
    return {
        "invoice": invoice,
        "supplier": supplier,
        "supplier_enterprise_number": enterprise_number_format(enterprise_number),
        "supplier_vat_number": vat_number_format(f"BE{enterprise_number}"),
        "supplier_iban": iban.format(supplier.get("iban", "")),
        "customer_enterprise_number": enterprise_number_format(
            invoice.customer_enterprise_number
        ),
        "customer_vat_number": vat_number_format(invoice.customer_vat_number),
        "lines": list(invoice.lines.all()),
        "vat_breakdown": invoice.vat_breakdown(),
    }


def invoice_pdf_render(invoice) -> bytes:
    """Render the invoice in its customer's language, from its own snapshot."""
    return pdf_render(
        template="documents/invoice.html",
        context=_context(invoice),
        language=invoice.customer_language,
    )


def invoice_pdf_ensure(invoice) -> bytes:
    """The invoice's stored PDF, rendered and stored the first time it is needed."""
    return invoice_document_ensure(invoice, "pdf", "pdf", invoice_pdf_render)


def invoice_document_ensure(invoice, field_name, extension, build) -> bytes:
    """A document of the invoice (its PDF, its e-invoice), built once and kept.

    What the customer received must stay what is on file, so a document is
    stored once and never built again. Two workers may build it at the same
    moment; the conditional update lets only the first one record its file,
    and the other removes its own copy and returns the stored one.
    """
    if getattr(invoice, field_name):
        return _read(getattr(invoice, field_name))

    content = build(invoice)
    field = Invoice._meta.get_field(field_name)
    name = field.generate_filename(invoice, f"{invoice.number}.{extension}")
    stored_name = field.storage.save(name, ContentFile(content))
    claimed = Invoice.objects.filter(pk=invoice.pk, **{field_name: ""}).update(
        **{field_name: stored_name}
    )
    if claimed:
        getattr(invoice, field_name).name = stored_name
        logger.info(
            "Invoice %s %s stored as %s", invoice.number, field_name, stored_name
        )
        return content

    field.storage.delete(stored_name)
    invoice.refresh_from_db(fields=[field_name])
    return _read(getattr(invoice, field_name))


def _read(stored_file):
    with stored_file.open("rb") as file:
        return file.read()


def invoice_attachment(invoice_id):
    """``(filename, content, mimetype)`` for the email that sends an invoice."""
    invoice = Invoice.objects.get(pk=invoice_id)
    return f"{invoice.number}.pdf", invoice_pdf_ensure(invoice), "application/pdf"
