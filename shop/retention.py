"""The API's idempotency keys in the purge (messaging.retention): a key goes
RETAIN_IDEMPOTENCY_KEYS after the request that first used it. A client that retries later
than that is a new request, and places a new order; the API promises at least a day
(messaging.conf refuses a shorter window)."""

from datetime import datetime

from django.db.models import Q

from messaging.retention import Purgeable

from .models import IdempotencyKey


def _expired(cutoff: datetime) -> Q:
    return Q(created_at__lt=cutoff)


IDEMPOTENCY_KEYS = Purgeable(
    "idempotency keys", IdempotencyKey, "RETAIN_IDEMPOTENCY_KEYS", "created_at", _expired
)
