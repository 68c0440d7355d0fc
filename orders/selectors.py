from django.db.models import Count

from accounts.permissions import scope_to_user

from .models import AccessRequest, AccessRequestStatus


def access_requests_visible_to(user):
    return scope_to_user(
        AccessRequest.objects.select_related("organisation", "requested_by"), user
    )


def cell_queue():
    """Requests waiting for the cell's decision, oldest first."""
    return (
        AccessRequest.objects.filter(status=AccessRequestStatus.SUBMITTED)
        .select_related("organisation", "requested_by")
        .order_by("submitted_at", "pk")
    )


def order_forms_awaiting_accounts():
    return (
        AccessRequest.objects.filter(status=AccessRequestStatus.ORDER_FORM_SUBMITTED)
        .select_related("organisation", "order_form")
        .annotate(
            lines_total=Count("order_form__lines", distinct=True),
            lines_done=Count("order_form__lines__icms_account", distinct=True),
        )
        .order_by("order_form__submitted_at", "pk")
    )


def completed_order_forms():
    """Every order form the organisation has completed, newest first."""
    return (
        AccessRequest.objects.filter(order_form__submitted_at__isnull=False)
        .select_related("organisation", "order_form", "order_form__submitted_by")
        .annotate(lines_total=Count("order_form__lines"))
        .order_by("-order_form__submitted_at")
    )


def order_lines_with_accounts(order_form):
    return order_form.lines.select_related("icms_account__subscription").order_by(
        "position"
    )


def access_request_timeline(access_request):
    return access_request.audit_entries.select_related("actor").order_by("at", "pk")
