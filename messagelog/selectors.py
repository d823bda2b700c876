"""Reads over the message log for pages outside the admin: an order's conversation.

The storefront's order page and the API read the same conversation model as the admin's
conversation page (messagelog.conversation), reduced to what a customer may see.
"""

from uuid import UUID

from .conversation import Step, load_conversation
from .outcomes import Status


def conversation_timeline(correlation_id: UUID) -> list[dict]:
    """Each message of a conversation once, causes before their effects, with where it
    stands (on Kafka, or still in the outbox) and the consumer groups that handled it."""
    return [_entry(step) for step in load_conversation(correlation_id).steps]


def _entry(step: Step) -> dict:
    return {
        "message_id": step.message_id,
        "type": step.type,
        "name": step.name,
        "kind": step.kind,
        "source": step.source,
        "time": step.time,
        "state": step.state,
        "handled_by": [o.group for o in step.outcomes if o.status == Status.HANDLED],
    }
