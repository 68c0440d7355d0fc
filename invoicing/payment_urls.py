"""TCD's pages for payments, in the invoicing namespace."""

from django.urls import path

from . import payment_views

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
]
