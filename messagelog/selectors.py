"""Reads over the message log, for pages that show a conversation."""

from uuid import UUID

from messaging.models import InboxEntry, OutboxMessage

from .models import MessageRecord


def conversation_messages(correlation_id: UUID) -> list[MessageRecord]:
    """The messages of one conversation as they were read from Kafka, in time order."""
    return list(MessageRecord.objects.filter(correlation_id=correlation_id).order_by("time", "id"))


def conversation_handlings(correlation_id: UUID) -> dict[UUID, list[InboxEntry]]:
    """Which consumer groups handled each message of a conversation, by message id."""
    handled: dict[UUID, list[InboxEntry]] = {}
    for entry in InboxEntry.objects.filter(correlation_id=correlation_id).order_by("handled_at"):
        handled.setdefault(entry.message_id, []).append(entry)
    return handled


def conversation_timeline(correlation_id: UUID) -> list[dict]:
    """Each message of a conversation once, in time order, with where it stands.

    A message is "on Kafka" once the audit group has read it back from its topic and
    "in the outbox" while it still waits for the relay; the handlers' groups are listed.
    """
    handled = conversation_handlings(correlation_id)
    seen: set[UUID] = set()
    timeline = []
    for record in conversation_messages(correlation_id):
        if record.message_id in seen:
            continue  # the relay may publish a message twice; it is one message
        seen.add(record.message_id)
        timeline.append(_entry(record, "on Kafka", handled))
    pending = OutboxMessage.objects.filter(correlation_id=correlation_id).exclude(
        message_id__in=seen
    )
    timeline.extend(_entry(row, "in the outbox", handled) for row in pending)
    timeline.sort(key=lambda e: e["time"])
    return timeline


def _entry(message, state: str, handled: dict) -> dict:
    return {
        "message_id": message.message_id,
        "type": message.type,
        "name": message.type.split(".", 1)[-1],
        "kind": message.kind,
        "source": message.source,
        "time": message.time,
        "state": state,
        "handled_by": [entry.group for entry in handled.get(message.message_id, [])],
    }
