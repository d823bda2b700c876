"""The Celery application. Workers also run the Kafka consumers (messaging.worker)."""

import os

from celery import Celery
from celery.signals import worker_init

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("shop")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

# Registered here rather than in messaging's AppConfig: it must exist before the
# `celery worker` command line is parsed, which happens before Django is set up.
from messaging.worker import install  # noqa: E402

install(app)


@worker_init.connect
def _traces(sender, **kwargs) -> None:
    """Traces for the worker, named after its consumer groups (worker-warehouse), if configured."""
    from messaging import telemetry

    consumers = sender.options.get("consumers")
    telemetry.setup(f"worker-{consumers}" if consumers else "worker")
