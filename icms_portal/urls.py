from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView

from accounts import views as account_views
from subscriptions.receivers import PostmarkInboundWebhook

handler404 = "accounts.views.page_not_found"

urlpatterns = [
    path("", account_views.home, name="home"),
    path("", include("accounts.urls")),
    path("", include("orders.urls")),
    path("", include("subscriptions.urls")),
    path("", include("invoicing.urls")),
    path("i18n/setlang/", account_views.language_set, name="set_language"),
    # The mail provider posts the messages of TCD's admin mailbox here.
    path(
        "anymail/postmark/inbound/",
        PostmarkInboundWebhook.as_view(),
        name="postmark_inbound_webhook",
    ),
    path("", include("audit.urls")),
    # The Django admin logs in through the portal's own login and second factor.
    path(
        "django-admin/login/",
        RedirectView.as_view(pattern_name="accounts:login", query_string=True),
    ),
    path("django-admin/", admin.site.urls),
]
