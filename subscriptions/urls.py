from django.urls import path

from . import views

app_name = "subscriptions"
urlpatterns = [
    path("accesses/", views.access_list, name="access_list"),
    path("accesses/<int:pk>/", views.access_detail, name="access_detail"),
    path("accesses/<int:pk>/cancel/", views.access_cancel, name="access_cancel"),
    path(
        "accesses/<int:pk>/cancellation/withdraw/",
        views.cancellation_withdraw,
        name="cancellation_withdraw",
    ),
    path("accesses/<int:pk>/close/", views.access_close, name="access_close"),
    path("cell/removals/", views.removals, name="removals"),
    path("tcd/inbound/", views.inbound_review, name="inbound_review"),
]
