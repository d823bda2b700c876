"""What travels with every message besides its data: identity, origin and causality."""

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol
from uuid import UUID, uuid4

from django.utils import timezone

from .contracts import Message, MessageKind


class Cause(Protocol):
    """What a new message needs of the message that caused it."""

    @property
    def message_id(self) -> UUID: ...
    @property
    def correlation_id(self) -> UUID: ...


@dataclass(frozen=True)
class CauseRef:
    """A cause remembered in a table, for messages sent later (e.g. after a Celery task)."""

    message_id: UUID
    correlation_id: UUID


@dataclass(frozen=True)
class Metadata:
    message_id: UUID
    type: str
    source: str
    kind: MessageKind
    time: datetime
    key: str
    # The whole conversation, from the BUY click on.
    correlation_id: UUID
    # The message that caused this one; None for the conversation's first message.
    causation_id: UUID | None = None
    # The version of its type the data was written as (messaging.contracts).
    version: int = 1
    # The W3C trace context it was created in (messaging.tracing); "" outside any trace.
    traceparent: str = ""
    tracestate: str = ""

    @classmethod
    def for_message(
        cls,
        message: Message,
        *,
        caused_by: Cause | None = None,
        correlation_id: UUID | None = None,
    ) -> "Metadata":
        """Metadata of a new message: it joins its cause's conversation, or starts one."""
        if caused_by is not None and correlation_id is not None:
            raise ValueError("A caused message inherits its correlation id; pass one or the other")
        message_id = uuid4()
        return cls(
            message_id=message_id,
            type=message.type_name(),
            source=message.source,
            kind=message.kind,
            time=timezone.now(),
            key=message.key,
            correlation_id=(
                caused_by.correlation_id if caused_by else correlation_id or message_id
            ),
            causation_id=caused_by.message_id if caused_by else None,
            version=message.version,
        )
