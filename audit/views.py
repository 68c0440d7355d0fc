from django.core.paginator import Paginator
from django.http import StreamingHttpResponse
from django.shortcuts import render
from django.utils import timezone

from accounts.permissions import staff_required
from invoicing.exports import csv_stream

from .forms import AuditFilterForm
from .selectors import audit_entries_filtered

COLUMNS = ["at", "action", "who", "organisation", "object", "summary", "client_address"]


def _filtered(request):
    form = AuditFilterForm(request.GET or None)
    if form.is_bound and form.is_valid():
        return form, audit_entries_filtered(**form.cleaned_data)
    return form, audit_entries_filtered()


@staff_required
def audit_log(request):
    form, entries = _filtered(request)
    page = Paginator(entries, 100).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "audit/audit_log.html",
        {"form": form, "page": page, "query": query.urlencode()},
    )


@staff_required
def audit_export(request):
    _form, entries = _filtered(request)
    rows = (
        [
            timezone.localtime(entry.at).isoformat(timespec="seconds"),
            entry.action,
            entry.actor_label,
            entry.organisation.legal_name if entry.organisation else "",
            f"{entry.object_type}:{entry.object_id}" if entry.object_type else "",
            entry.summary_display,
            entry.client_address or "",
        ]
        for entry in entries.iterator(chunk_size=500)
    )
    response = StreamingHttpResponse(csv_stream(COLUMNS, rows), content_type="text/csv")
    response["Content-Disposition"] = 'attachment; filename="audit-log.csv"'
    return response
