"""Testing an app's handlers without a broker: hand them a message, read what they sent.

    from messaging import testing

    handled = testing.deliver(OrderPlaced(...), to="warehouse")
    assert handled.outcome == "handled"
    [reserved] = handled.sent_of(StockReserved)

`deliver` puts the message on the wire as the relay would (CloudEvents headers, key, the
contract's topic) and hands the record to the group's handlers through the very path the
consumer uses, in process: the inbox, the contract checks, the handlers' one transaction.
What the handlers sent is read back from the outbox, decoded into contract messages. It
needs the database (a pytest-django test with `django_db`), not Kafka.
"""

import itertools
from dataclasses import dataclass, field
from uuid import uuid4

from .contracts import Message, message_class
from .handling import handle_batch
from .metadata import Metadata
from .models import OutboxMessage
from .registry import group
from .wire import RawRecord, encode

# Each delivery is a record of its own, as on Kafka: two parked ones must not share a place.
_offsets = itertools.count()


@dataclass(frozen=True)
class Sent:
    """A message a handler put in the outbox, with its metadata."""

    message: Message
    metadata: Metadata


@dataclass(frozen=True)
class Handled:
    # handled, ignored, dead_lettered, or parked: it failed, or queued behind a record of
    # its key that an earlier delivery parked
    outcome: str
    metadata: Metadata  # of the message delivered
    sent: list[Sent] = field(default_factory=list)

    def sent_of(self, contract: type[Message]) -> list[Message]:
        """The messages of one type the handlers sent, in the order they sent them."""
        return [s.message for s in self.sent if isinstance(s.message, contract)]


def deliver(message: Message, *, to: str) -> Handled:
    """Hand `message` to consumer group `to` as if read from Kafka; returns what happened.

    The message starts a conversation of its own. A handler that raises is parked for a
    retry, as in production: the outcome is "parked" and nothing it did is kept.
    """
    metadata = Metadata.for_message(message, correlation_id=uuid4())
    wire = encode(message.topic, metadata, message.model_dump(mode="json"))
    record = RawRecord(message.topic, 0, next(_offsets), wire.key, wire.value, wire.headers)
    last = OutboxMessage.objects.order_by("-id").values_list("id", flat=True).first() or 0
    [outcome] = handle_batch(group(to), [record])
    rows = OutboxMessage.objects.filter(id__gt=last, causation_id=metadata.message_id)
    sent = [
        Sent(message_class(row.type).model_validate(row.payload), row.metadata())
        for row in rows.order_by("id")
    ]
    return Handled(str(outcome), metadata, sent)
