from django.contrib import admin

from .models import AccessRequest, OrderForm, OrderLine


@admin.register(AccessRequest)
class AccessRequestAdmin(admin.ModelAdmin):
    """For looking things up; every change goes through the portal's own pages."""

    list_display = ["pk", "organisation", "quantity", "status", "submitted_at"]
    list_filter = ["status"]

    def has_change_permission(self, request, obj=None):
        return False


class OrderLineInline(admin.TabularInline):
    model = OrderLine
    extra = 0

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(OrderForm)
class OrderFormAdmin(admin.ModelAdmin):
    list_display = ["pk", "access_request", "quantity", "submitted_at"]
    inlines = [OrderLineInline]

    def has_change_permission(self, request, obj=None):
        return False
