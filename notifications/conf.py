"""The notifications app's settings: one namespaced dict, `settings.NOTIFICATIONS`.

Every key has a default here; an unknown key is a typo and fails loudly.
"""

from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

DEFAULTS: dict[str, Any] = {
    # A notification is tried this many times in all, then left failed for a person.
    # With the backoff below that is about 17 minutes of a mail server or gateway refusing.
    "DELIVERY_ATTEMPTS": 10,
    "RETRY_BACKOFF_SECONDS": 2.0,
    "RETRY_BACKOFF_MAX_SECONDS": 600.0,
    # How long an attempt owns the row it claimed. It must be longer than a send can take
    # (settings.EMAIL_TIMEOUT bounds each SMTP operation): an attempt still sending when
    # its lease ends is taken for dead, and its message is sent again with the same key.
    "LEASE_SECONDS": 60.0,
    # A pending row whose attempt is this late has lost its Celery task (a worker or Redis
    # restarted); the sweep queues it again. Below this, the task may just be queued
    # behind others.
    "OVERDUE_SECONDS": 30.0,
}


def get(key: str) -> Any:
    configured = getattr(settings, "NOTIFICATIONS", {})
    unknown = set(configured) - set(DEFAULTS)
    if unknown:
        raise ImproperlyConfigured(f"Unknown NOTIFICATIONS settings: {', '.join(sorted(unknown))}")
    return configured.get(key, DEFAULTS[key])
