"""Failed handling attempts, kept although each attempt's transaction rolled back.

The inbox row commits only with a successful handling, so without these rows a message
that failed twice and then succeeded, or is still being retried, would leave no trace.
"""

import logging
from datetime import datetime

from django.db import DatabaseError, transaction
from django.utils import timezone

from .metadata import Metadata
from .models import HandlingFailure

logger = logging.getLogger(__name__)


def record_failure(
    group: str,
    metadata: Metadata,
    *,
    attempt: int,
    started_at: datetime,
    error: str,
    trace: str,
) -> None:
    """Append one failed attempt; never raises, so handling goes on exactly as before."""
    try:
        with transaction.atomic():
            HandlingFailure.objects.create(
                group=group,
                message_id=metadata.message_id,
                type=metadata.type,
                correlation_id=metadata.correlation_id,
                attempt=attempt,
                error=error,
                traceback=trace,
                started_at=started_at,
                failed_at=timezone.now(),
            )
    # The database may be what failed the attempt. The failure is logged by the caller;
    # losing its row must not turn a retry into a crash of the consumer.
    except DatabaseError as exc:
        logger.warning("%s could not record a failed attempt: %s", group, exc)
