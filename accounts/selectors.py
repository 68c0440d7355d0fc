from .models import Role, User


def organisation_admins(organisation):
    return User.objects.filter(
        organisation=organisation, role=Role.ORGANISATION_ADMIN, is_active=True
    ).order_by("pk")


def organisation_admin_emails(organisation):
    return list(organisation_admins(organisation).values_list("email", flat=True))
