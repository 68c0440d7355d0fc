"""TCD's pages for payments and exports, in the invoicing namespace."""

from django.urls import path

from . import export_views, payment_views

urlpatterns = [
    path("tcd/payments/", payment_views.payments, name="payments"),
    path("tcd/payments/import/", payment_views.bank_import_new, name="bank_import_new"),
    path(
        "tcd/payments/imports/<int:pk>/",
        payment_views.bank_import_detail,
        name="bank_import_detail",
    ),
    path(
        "tcd/payments/invoices/<int:pk>/",
        payment_views.payment_new,
        name="payment_new",
    ),
    path(
        "tcd/exports/invoices.csv",
        export_views.export_invoices,
        name="export_invoices",
    ),
    path(
        "tcd/exports/invoice-lines.csv",
        export_views.export_invoice_lines,
        name="export_invoice_lines",
    ),
]
