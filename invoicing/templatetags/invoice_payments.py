"""The payments block of the invoice page, so that the page's view needs no
knowledge of payments."""

from django import template

from invoicing import selectors
from invoicing.payment_forms import PaymentForm

register = template.Library()


@register.inclusion_tag("invoicing/_invoice_payments.html", takes_context=True)
def invoice_payments(context, invoice):
    if invoice.is_credit_note:
        return {"invoice": invoice, "summary": None}
    user = context["user"]
    return {
        "invoice": invoice,
        "user": user,
        "summary": selectors.invoice_payment_summary(invoice),
        "form": PaymentForm() if user.is_tcd else None,
    }
