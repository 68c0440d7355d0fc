"""The CSV exports of invoices and their lines for TCD's accounting."""

import logging
from datetime import datetime

from django.core.exceptions import ValidationError
from django.http import StreamingHttpResponse
from django.shortcuts import redirect
from django.utils.translation import gettext as _

from accounts.permissions import tcd_required
from icms_portal.forms import messages_add_service_error

from . import exports, selectors

logger = logging.getLogger(__name__)


def _issue_dates(request):
    """The ``from`` and ``to`` issue dates asked for, each None when not given."""
    dates = []
    for name in ("from", "to"):
        value = request.GET.get(name, "").strip()
        if not value:
            dates.append(None)
            continue
        try:
            dates.append(datetime.strptime(value, "%Y-%m-%d").date())
        except ValueError:
            raise ValidationError(
                _("“%(value)s” is not a date written YYYY-MM-DD.") % {"value": value}
            ) from None
    if dates[0] and dates[1] and dates[0] > dates[1]:
        raise ValidationError(_("The first day comes after the last."))
    return dates


def _csv_response(request, name, columns, rows_for):
    try:
        issued_from, issued_to = _issue_dates(request)
    except ValidationError as error:
        messages_add_service_error(request, error)
        return redirect("invoicing:invoice_list")
    period = "_".join(str(day) for day in (issued_from, issued_to) if day)
    filename = f"{name}_{period}.csv" if period else f"{name}.csv"
    logger.info(
        "%s exported by %s (from %s to %s)",
        name,
        request.user.pk,
        issued_from,
        issued_to,
    )
    return StreamingHttpResponse(
        exports.csv_stream(columns, rows_for(issued_from, issued_to)),
        content_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


@tcd_required
def export_invoices(request):
    return _csv_response(
        request,
        "invoices",
        exports.INVOICE_COLUMNS,
        lambda issued_from, issued_to: exports.invoice_rows(
            selectors.invoices_for_export(issued_from=issued_from, issued_to=issued_to)
        ),
    )


@tcd_required
def export_invoice_lines(request):
    return _csv_response(
        request,
        "invoice-lines",
        exports.LINE_COLUMNS,
        lambda issued_from, issued_to: exports.invoice_line_rows(
            selectors.invoice_lines_for_export(
                issued_from=issued_from, issued_to=issued_to
            )
        ),
    )
