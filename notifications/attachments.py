"""Files attached to an outgoing email, produced when the email is sent.

An outgoing email stores only a reference such as ``{"kind": "invoice_pdf",
"id": 12}``; the file itself is read or rendered at sending time, so the
outbox row stays small and the document is the one stored with its object.
"""

from django.utils.module_loading import import_string

PRODUCERS = {
    "order_form_pdf": "orders.documents.order_form_attachment",
    "invoice_pdf": "invoicing.documents.invoice_attachment",
    "invoice_ubl": "invoicing.ubl.invoice_ubl_attachment",
}


def attachment_produce(reference):
    """Return ``(filename, content, mimetype)`` for a stored reference."""
    producer = import_string(PRODUCERS[reference["kind"]])
    return producer(reference["id"])
