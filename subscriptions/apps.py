from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SubscriptionsConfig(AppConfig):
    name = "subscriptions"
    verbose_name = _("ICMS accounts and subscriptions")

    def ready(self):
        from . import receivers  # noqa: F401 - connects the inbound webhook
