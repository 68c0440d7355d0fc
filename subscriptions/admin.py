from django.contrib import admin

from .models import (
    Cancellation,
    HolderDeparture,
    IcmsAccount,
    InboundEmail,
    PasswordChange,
    PersonalDataReview,
    Subscription,
    SubscriptionPeriod,
    UpgradeRequest,
)


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


class ReadOnlyAdmin(admin.ModelAdmin):
    """For looking things up: every change goes through the portal's pages,
    which check the rules and write the audit log."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Cancellation)
class CancellationAdmin(ReadOnlyAdmin):
    list_display = [
        "subscription",
        "received_at",
        "channel",
        "stop_date",
        "withdrawn_at",
    ]
    list_filter = ["channel"]


@admin.register(InboundEmail)
class InboundEmailAdmin(ReadOnlyAdmin):
    list_display = ["received_at", "sender_address", "subject", "status", "reason"]
    list_filter = ["status", "reason"]
    search_fields = ["sender_address", "subject"]


@admin.register(UpgradeRequest)
class UpgradeRequestAdmin(ReadOnlyAdmin):
    list_display = ["account", "status"]
    list_filter = ["status"]


@admin.register(HolderDeparture)
class HolderDepartureAdmin(ReadOnlyAdmin):
    list_display = ["account", "left_on"]


@admin.register(PasswordChange)
class PasswordChangeAdmin(ReadOnlyAdmin):
    list_display = ["account", "done_at"]


@admin.register(PersonalDataReview)
class PersonalDataReviewAdmin(ReadOnlyAdmin):
    list_display = ["organisation", "due_on", "confirmed_at", "confirmed_by"]
