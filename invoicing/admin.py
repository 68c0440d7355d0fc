from django.contrib import admin

from .models import ContractingAuthority, FrameworkAgreement, Invoice, PriceAmendment


@admin.register(ContractingAuthority)
class ContractingAuthorityAdmin(admin.ModelAdmin):
    list_display = ["name", "short_name"]


class PriceAmendmentInline(admin.TabularInline):
    model = PriceAmendment
    extra = 0


@admin.register(FrameworkAgreement)
class FrameworkAgreementAdmin(admin.ModelAdmin):
    list_display = ["reference", "contracting_authority", "yearly_price", "starts_on"]
    inlines = [PriceAmendmentInline]


@admin.register(Invoice)
class InvoiceAdmin(admin.ModelAdmin):
    """Read only: an issued invoice never changes and is never deleted."""

    list_display = [
        "number",
        "customer_name",
        "issue_date",
        "gross_total",
        "payment_status",
    ]
    list_filter = ["kind", "year", "payment_status"]
    search_fields = ["number", "customer_name", "structured_communication"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
