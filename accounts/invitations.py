"""New portal users choose their own password through a one-time link.

No password is ever sent by email: an invitation, like a forgotten password,
carries a link that works once and for PASSWORD_RESET_TIMEOUT seconds.
"""

from django.conf import settings
from django.contrib.auth.tokens import default_token_generator
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from django.utils.translation import gettext as _

from audit.services import audit_record
from notifications.services import email_queue

from .models import Role, User


def password_set_url(user):
    """The one-time link at which ``user`` chooses a password."""
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    token = default_token_generator.make_token(user)
    path = reverse(
        "accounts:password_reset_confirm", kwargs={"uidb64": uid, "token": token}
    )
    return settings.SITE_URL + path


@transaction.atomic
def portal_user_invite(
    *,
    email,
    first_name,
    last_name,
    invited_by,
    role=Role.ORGANISATION_ADMIN,
    organisation=None,
    language=None,
    client_address=None,
):
    """Create a portal user without a password and email them the link to
    choose one.

    An organisation admin invites colleagues of their own organisation; staff
    invite anyone.
    """
    if invited_by.role == Role.ORGANISATION_ADMIN:
        if role != Role.ORGANISATION_ADMIN:
            raise ValidationError(_("You can invite admins of your organisation only."))
        organisation = invited_by.organisation
    if role == Role.ORGANISATION_ADMIN and organisation is None:
        raise ValidationError({"organisation": _("Choose the organisation.")})
    email = User.objects.normalize_email(email or "").strip()
    if User.objects.filter(email__iexact=email).exists():
        raise ValidationError(
            {"email": _("A portal user with this email address already exists.")}
        )
    user = User(
        email=email,
        first_name=(first_name or "").strip(),
        last_name=(last_name or "").strip(),
        role=role,
        organisation=organisation if role == Role.ORGANISATION_ADMIN else None,
        language=language or (organisation.language if organisation else "en"),
    )
    user.set_unusable_password()
    user.full_clean(exclude=["password"])
    try:
        with transaction.atomic():
            user.save()
    except IntegrityError as error:
        raise ValidationError(
            {"email": _("A portal user with this email address already exists.")}
        ) from error
    audit_record(
        action="portal_user.invited",
        actor=invited_by,
        subject=user,
        organisation=user.organisation,
        summary=email,
        client_address=client_address,
        data={"role": role},
    )
    email_queue(
        key=f"portal_user.invited:{user.pk}",
        template="portal_user_invited",
        to=[user.email],
        language=user.language,
        context={
            "user": user,
            "invited_by": invited_by,
            "link": password_set_url(user),
        },
        # The link is a credential: the outbox forgets the body once sent.
        sensitive=True,
    )
    return user
