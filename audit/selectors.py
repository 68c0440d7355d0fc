from datetime import datetime, time, timedelta

from django.utils import timezone

from .models import AuditEntry


def audit_entries_filtered(
    *, action="", organisation=None, actor="", since=None, until=None
):
    """The audit log, newest first, narrowed by what a staff member asks."""
    entries = AuditEntry.objects.select_related("organisation").order_by("-at", "-pk")
    if action:
        entries = entries.filter(action=action)
    if organisation is not None:
        entries = entries.filter(organisation=organisation)
    if actor:
        entries = entries.filter(actor_label__icontains=actor)
    if since:
        entries = entries.filter(at__gte=_start_of(since))
    if until:
        entries = entries.filter(at__lt=_start_of(until + timedelta(days=1)))
    return entries


def _start_of(day):
    return timezone.make_aware(datetime.combine(day, time.min))


def audit_actions():
    return list(
        AuditEntry.objects.order_by("action")
        .values_list("action", flat=True)
        .distinct()
    )
