from django.contrib import admin

from .models import IcmsAccount, Subscription, SubscriptionPeriod


@admin.register(IcmsAccount)
class IcmsAccountAdmin(admin.ModelAdmin):
    list_display = [
        "username",
        "organisation",
        "holder_last_name",
        "level",
        "status",
        "is_base_package",
    ]
    list_filter = ["level", "status", "is_base_package"]
    search_fields = ["username", "holder_last_name", "holder_email"]


class SubscriptionPeriodInline(admin.TabularInline):
    model = SubscriptionPeriod
    extra = 0
    readonly_fields = ["index", "start", "end", "created_at"]

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Subscription)
class SubscriptionAdmin(admin.ModelAdmin):
    list_display = ["account", "activation_date", "status"]
    inlines = [SubscriptionPeriodInline]
