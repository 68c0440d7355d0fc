from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.utils.translation import gettext_lazy as _

from .models import Organisation, SuspiciousReport, User


@admin.register(Organisation)
class OrganisationAdmin(admin.ModelAdmin):
    list_display = [
        "legal_name",
        "enterprise_number",
        "language",
        "contracting_authority",
        "base_package_allocation",
    ]
    search_fields = ["legal_name", "enterprise_number"]
    list_filter = ["language", "configuration", "contracting_authority"]


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    ordering = ["email"]
    list_display = [
        "email",
        "first_name",
        "last_name",
        "role",
        "organisation",
        "is_active",
    ]
    list_filter = ["role", "is_active", "organisation"]
    search_fields = ["email", "first_name", "last_name"]
    fieldsets = [
        (None, {"fields": ["email", "password"]}),
        (
            _("Person"),
            {"fields": ["first_name", "last_name", "phone", "function", "language"]},
        ),
        (
            _("Role"),
            {
                "fields": [
                    "role",
                    "organisation",
                    "is_active",
                    "is_staff",
                    "is_superuser",
                ]
            },
        ),
    ]
    add_fieldsets = [
        (
            None,
            {
                "fields": [
                    "email",
                    "first_name",
                    "last_name",
                    "role",
                    "organisation",
                    "password1",
                    "password2",
                ]
            },
        ),
    ]


@admin.register(SuspiciousReport)
class SuspiciousReportAdmin(admin.ModelAdmin):
    """Read only: TCD manages reports in the portal, where each change is kept."""

    list_display = ["received_at", "reported_by", "organisation", "status"]
    list_filter = ["status"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
