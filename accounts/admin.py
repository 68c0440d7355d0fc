from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin

from .models import Organisation, User


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
            "Person",
            {"fields": ["first_name", "last_name", "phone", "function", "language"]},
        ),
        (
            "Role",
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
