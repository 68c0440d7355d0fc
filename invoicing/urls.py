from django.urls import path

from . import payment_urls, tcd_views, views

app_name = "invoicing"
urlpatterns = [
    path("invoices/", views.invoice_list, name="invoice_list"),
    path("invoices/<int:pk>/", views.invoice_detail, name="invoice_detail"),
    path("invoices/<int:pk>/pdf/", views.invoice_download, name="invoice_download"),
    path(
        "invoices/<int:pk>/ubl/",
        views.invoice_ubl_download,
        name="invoice_ubl_download",
    ),
    path("tcd/invoicing/", views.invoicing_queue, name="queue"),
    path("tcd/invoicing/issue/", views.invoice_issue, name="issue"),
    path("tcd/runs/", tcd_views.run_list, name="run_list"),
    path("tcd/runs/<int:pk>/", tcd_views.run_detail, name="run_detail"),
    path("tcd/prices/", tcd_views.price_list, name="price_list"),
    path(
        "tcd/base-packages/", tcd_views.base_package_ledger, name="base_package_ledger"
    ),
    path(
        "invoices/<int:pk>/credit-note/",
        tcd_views.credit_note_new,
        name="credit_note_new",
    ),
]
urlpatterns += payment_urls.urlpatterns
