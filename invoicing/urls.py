from django.urls import path

from . import views

app_name = "invoicing"
urlpatterns = [
    path("invoices/", views.invoice_list, name="invoice_list"),
    path("invoices/<int:pk>/", views.invoice_detail, name="invoice_detail"),
    path("invoices/<int:pk>/pdf/", views.invoice_download, name="invoice_download"),
    path("tcd/invoicing/", views.invoicing_queue, name="queue"),
    path("tcd/invoicing/issue/", views.invoice_issue, name="issue"),
]
