from django.urls import path

from . import views

app_name = "subscriptions"
urlpatterns = [
    path("accesses/", views.access_list, name="access_list"),
]
