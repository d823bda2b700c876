"""Every log line written while a message is handled carries its correlation id.

`message_context` marks the message being handled (a context variable, so threads and
tasks do not mix theirs up); `MessageContextFilter`, installed on the log handlers in
settings, copies it onto each log record as `correlation_id`, `message_id` and `group`,
with the current span's `trace_id` and `span_id`.
`PersonalDataFilter`, installed beside it, is the last net behind log calls that name
ids, never people: it masks what an error may quote (messaging.personal.scrubbed).
"""

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from opentelemetry import trace
from opentelemetry.trace import format_span_id, format_trace_id

from .metadata import Metadata
from .personal import scrubbed

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
        # The trace and span the line was written in (messaging.tracing), so a log line and
        # its span find each other; "-" outside any trace.
        span = trace.get_current_span().get_span_context()
        record.trace_id = format_trace_id(span.trace_id) if span.is_valid else "-"
        record.span_id = format_span_id(span.span_id) if span.is_valid else "-"
        return True


class PersonalDataFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        clean = scrubbed(message)
        if clean != message:
            record.msg, record.args = clean, ()
        if record.exc_info:
            # Formatted here, once, so the traceback's last line (the error) is scrubbed too.
            record.exc_text = scrubbed(logging.Formatter().formatException(record.exc_info))
            record.exc_info = None
        elif record.exc_text:
            record.exc_text = scrubbed(record.exc_text)
        return True
