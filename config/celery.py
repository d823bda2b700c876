"""The Celery application. Workers also run the Kafka consumers (messaging.worker)."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("shop")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

# Registered here rather than in messaging's AppConfig: it must exist before the
# `celery worker` command line is parsed, which happens before Django is set up.
from messaging.worker import install  # noqa: E402

install(app)
