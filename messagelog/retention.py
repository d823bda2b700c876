"""The message log's place in the purge (messaging.retention): records go after
RETAIN_MESSAGE_LOG, except those of a message some group still holds parked or as an open
dead letter, which the operator deciding on it reads in the log."""

from datetime import datetime

from django.db.models import Q

from messaging.retention import Purgeable, held, held_record

from .models import MessageRecord


def _expired(cutoff: datetime) -> Q:
    return Q(recorded_at__lt=cutoff) & ~held(group=None) & ~held_record()


MESSAGE_LOG = Purgeable("message log", MessageRecord, "RETAIN_MESSAGE_LOG", "recorded_at", _expired)
