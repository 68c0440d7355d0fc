"""Reports of suspicious situations: anyone logged in reports, TCD follows up."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Case, IntegerField, Value, When
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _

from icms_portal.forms import form_add_service_error

from . import services
from .models import SuspiciousReport, SuspiciousReportStatus
from .permissions import any_role_required, client_address, tcd_required
from .report_forms import ReportStatusForm, SuspiciousReportForm


@any_role_required
def report_new(request):
    form = SuspiciousReportForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            report = services.suspicious_report_submit(
                reported_by=request.user,
                client_address=client_address(request),
                **form.cleaned_data,
            )
        except ValidationError as error:
            form_add_service_error(form, error)
        else:
            messages.success(
                request,
                _(
                    "Thank you. Your report %(reference)s is sent to the helpdesk; "
                    "you will get a receipt by email."
                )
                % {"reference": report.reference},
            )
            return redirect("accounts:report_new")
    return render(
        request,
        "accounts/report_new.html",
        {
            "form": form,
            "reports": SuspiciousReport.objects.filter(
                reported_by=request.user
            ).select_related("icms_account"),
        },
    )


def _status_prefix(report):
    return f"report-{report.pk}"


@tcd_required
def report_list(request):
    """Every report, the open ones first, each with its status to change."""
    bound = {}
    if request.method == "POST":
        report = get_object_or_404(SuspiciousReport, pk=request.POST.get("report"))
        form = ReportStatusForm(request.POST, prefix=_status_prefix(report))
        bound[report.pk] = form
        if form.is_valid():
            try:
                services.suspicious_report_set_status(
                    report=report,
                    changed_by=request.user,
                    client_address=client_address(request),
                    **form.cleaned_data,
                )
            except ValidationError as error:
                form_add_service_error(form, error)
            else:
                messages.success(
                    request,
                    _("Report %(reference)s is updated.")
                    % {"reference": report.reference},
                )
                return redirect("accounts:report_list")
    reports = (
        SuspiciousReport.objects.select_related(
            "reported_by", "organisation", "icms_account"
        )
        .prefetch_related("status_changes__changed_by")
        .annotate(
            closed=Case(
                When(status=SuspiciousReportStatus.CLOSED, then=Value(1)),
                default=Value(0),
                output_field=IntegerField(),
            )
        )
        .order_by("closed", "-received_at", "-pk")
    )
    rows = [
        (
            report,
            bound.get(report.pk) or ReportStatusForm(prefix=_status_prefix(report)),
        )
        for report in reports
    ]
    return render(request, "accounts/report_list.html", {"rows": rows})
