from django.urls import path

from . import views

app_name = "orders"
urlpatterns = [
    path("requests/", views.request_list, name="request_list"),
    path("requests/new/", views.request_new, name="request_new"),
    path("requests/<int:pk>/", views.request_detail, name="request_detail"),
    path(
        "requests/<int:pk>/order-form/",
        views.order_form_complete,
        name="order_form_complete",
    ),
    path(
        "requests/<int:pk>/order-form.pdf",
        views.order_form_download,
        name="order_form_download",
    ),
    path("cell/", views.cell_queue, name="cell_queue"),
    path("cell/requests/<int:pk>/", views.cell_request, name="cell_request"),
    path("tcd/", views.tcd_workbench, name="tcd_workbench"),
]
