from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class OutgoingEmailStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    SENDING = "sending", _("Sending")
    SENT = "sent", pgettext_lazy("status", "Sent")


class OutgoingEmail(models.Model):
    """An email written in the same transaction as the action that causes it.

    The row is the outbox: a rolled-back action leaves no row and so sends
    nothing; a mail server that is down leaves the row pending, and a later
    attempt sends it. ``key`` names the business event, so the same event never
    queues a second email.
    """

    key = models.CharField(max_length=200, unique=True)
    template = models.CharField(max_length=100)
    language = models.CharField(max_length=2)
    to = models.JSONField()
    subject = models.CharField(max_length=300)
    body_text = models.TextField()
    body_html = models.TextField(blank=True)
    attachments = models.JSONField(default=list, blank=True)
    sensitive = models.BooleanField(default=False)
    status = models.CharField(
        max_length=10,
        choices=OutgoingEmailStatus.choices,
        default=OutgoingEmailStatus.PENDING,
        db_index=True,
    )
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    claimed_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("outgoing email")
        verbose_name_plural = _("outgoing emails")
        ordering = ["-created_at"]

    def __str__(self):
        return f"{self.subject} → {', '.join(self.to)}"
