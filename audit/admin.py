from django.contrib import admin

from .models import AuditEntry


@admin.register(AuditEntry)
class AuditEntryAdmin(admin.ModelAdmin):
    """Read only: the audit log is never edited."""

    list_display = [
        "at",
        "action",
        "actor_label",
        "organisation",
        "summary",
        "client_address",
    ]
    list_filter = ["action"]
    search_fields = ["actor_label", "summary", "object_id"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
