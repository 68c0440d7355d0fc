import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "icms_portal.settings.dev")

app = Celery("icms_portal")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
