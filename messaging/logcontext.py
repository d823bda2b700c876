"""Every log line written while a message is handled carries its correlation id.

`message_context` marks the message being handled (a context variable, so threads and
tasks do not mix theirs up); `MessageContextFilter`, installed on the log handlers in
settings, copies it onto each log record as `correlation_id`, `message_id` and `group`.
"""

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from .metadata import Metadata

_NONE = {"correlation_id": "-", "message_id": "-", "group": "-"}
_current: ContextVar[dict[str, str]] = ContextVar("messaging_log_context", default=_NONE)


@contextmanager
def message_context(metadata: Metadata, group: str) -> Iterator[None]:
    token = _current.set(
        {
            "correlation_id": str(metadata.correlation_id),
            "message_id": str(metadata.message_id),
            "group": group,
        }
    )
    try:
        yield
    finally:
        _current.reset(token)


class MessageContextFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        for name, value in _current.get().items():
            setattr(record, name, value)
        return True
