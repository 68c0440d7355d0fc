import logging

from .models import AuditEntry

logger = logging.getLogger(__name__)


def audit_record(
    *,
    action,
    actor=None,
    subject=None,
    organisation=None,
    access_request=None,
    summary="",
    client_address=None,
    data=None,
):
    """Append one entry to the audit log, inside the caller's transaction."""
    entry = AuditEntry.objects.create(
        action=action,
        actor=actor if actor is not None and actor.pk else None,
        actor_label=actor.email if actor is not None and actor.pk else "system",
        organisation=organisation,
        access_request=access_request,
        object_type=subject._meta.label_lower if subject is not None else "",
        object_id=str(subject.pk) if subject is not None else "",
        summary=summary[:300],
        client_address=client_address,
        data=data or {},
    )
    logger.info(
        "%s by %s on %s:%s",
        action,
        entry.actor_label,
        entry.object_type,
        entry.object_id,
    )
    return entry
