from django.urls import path

from . import duty_views, views

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
    path(
        "accesses/<int:pk>/upgrade/",
        duty_views.upgrade_request_new,
        name="upgrade_request_new",
    ),
    path(
        "accesses/<int:pk>/departure/",
        duty_views.departure_record,
        name="departure_record",
    ),
    path("cell/upgrades/", duty_views.upgrade_queue, name="upgrade_queue"),
    path(
        "cell/password-changes/",
        duty_views.password_changes,
        name="password_changes",
    ),
    path("review/", duty_views.personal_data_review, name="personal_data_review"),
]
