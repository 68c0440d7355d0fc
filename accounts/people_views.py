"""The portal users of an organisation, as its admins see them."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _

from icms_portal.forms import messages_add_service_error

from . import services
from .models import Role, User
from .permissions import client_address, organisation_admin_required


def _colleagues(request):
    return User.objects.filter(
        organisation=request.user.organisation_id, role=Role.ORGANISATION_ADMIN
    ).order_by("-is_active", "last_name", "first_name")


@organisation_admin_required
def people(request):
    """The organisation's portal users; an admin deactivates one who left."""
    if request.method == "POST":
        user = get_object_or_404(_colleagues(request), pk=request.POST.get("user"))
        try:
            services.portal_user_deactivate(
                user=user,
                deactivated_by=request.user,
                client_address=client_address(request),
            )
        except ValidationError as error:
            messages_add_service_error(request, error)
        else:
            messages.success(
                request,
                _("%(name)s is deactivated and can no longer log in.")
                % {"name": user.full_name},
            )
        return redirect("accounts:people")
    return render(request, "accounts/people.html", {"people": _colleagues(request)})
