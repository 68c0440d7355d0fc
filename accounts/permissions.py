"""Who may open which page.

A page for one role answers 403 to the other roles. An object of another
organisation answers 404, as if it did not exist: an organisation admin learns
nothing of other organisations, not even which ids are taken.
"""

from functools import wraps

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied

from audit.services import audit_record

from .models import Role


def client_address(request):
    """The client's address as the server saw it.

    Behind a proxy, REMOTE_ADDR is set from the proxy's header by the WSGI
    server's own trusted-proxy setting, never read here from X-Forwarded-For.
    """
    return request.META.get("REMOTE_ADDR") or None


def role_required(*roles):
    def decorator(view):
        @wraps(view)
        def wrapper(request, *args, **kwargs):
            user = request.user
            if not user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            if user.role not in roles:
                audit_record(
                    action="permission.denied",
                    actor=user,
                    organisation=user.organisation,
                    summary=request.path[:300],
                    client_address=client_address(request),
                    data={"method": request.method, "path": request.path[:500]},
                )
                raise PermissionDenied
            return view(request, *args, **kwargs)

        return wrapper

    return decorator


organisation_admin_required = role_required(Role.ORGANISATION_ADMIN)
icms_cell_required = role_required(Role.ICMS_CELL)
tcd_required = role_required(Role.TCD)
any_role_required = role_required(*Role.values)
staff_required = role_required(Role.ICMS_CELL, Role.TCD)


def scope_to_user(queryset, user, organisation_field="organisation"):
    """Limit a queryset to what the user's role may see."""
    if user.role == Role.ORGANISATION_ADMIN:
        return queryset.filter(**{organisation_field: user.organisation_id})
    return queryset
