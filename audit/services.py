import logging

from .models import AuditEntry
from .summaries import PluralSummary, Summary, summary_render

__all__ = ["PluralSummary", "Summary", "audit_record"]

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
    """Append one entry to the audit log, inside the caller's transaction.

    ``summary`` is a ``Summary``, shown to each reader in their language, or
    plain text that is the same in every language (an address, a path).
    """
    stored = summary.stored() if isinstance(summary, Summary) else {}
    text = summary_render(stored, "en") if stored else str(summary)
    entry = AuditEntry.objects.create(
        action=action,
        actor=actor if actor is not None and actor.pk else None,
        actor_label=actor.email if actor is not None and actor.pk else "",
        organisation=organisation,
        access_request=access_request,
        object_type=subject._meta.label_lower if subject is not None else "",
        object_id=str(subject.pk) if subject is not None else "",
        summary=text[:300],
        summary_message=stored,
        client_address=client_address,
        data=data or {},
    )
    logger.info(
        "%s by %s on %s:%s",
        action,
        entry.actor_label or "the portal",
        entry.object_type,
        entry.object_id,
    )
    return entry
