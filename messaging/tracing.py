"""Traces that follow a BUY across Kafka: the trace context travels through the outbox.

Instrumenting the Kafka producer would parent every record on the relay's loop, which
publishes it later and knows nothing of what caused it. So the context is taken where the
message is written: `created` opens a short PRODUCER span, "create <type>" (OpenTelemetry's
messaging conventions for a message created apart from its sending), and its W3C context
goes into the outbox row with the message. The relay writes it on the record twice: as the
`traceparent` and `tracestate` headers any traced Kafka client reads, and as the
CloudEvents distributed-tracing extension (`ce_traceparent`, `ce_tracestate`, messaging.wire),
and reports its own "send <type>" span under it (`sending`). A consumer group's handling of
the record is a CONSUMER span, "process <type>", whose parent is that context
(`processing`); a retry of a parked record, a replay and an operator's redelivery of a dead
letter are spans of the same trace, marked by `shop.handling.mode`, and linked to whatever
ran them (a Celery task, a replay, an operator's request). A batch undone by one failing
record (messaging.handling) ends its first try's spans with the outcome `undone`.

Without a configured SDK (messaging.telemetry) the OpenTelemetry API records nothing: no
span is made, and a context already on a record is passed on unchanged, for the price of
reading one header.
"""

import time
import traceback
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from enum import StrEnum
from functools import partial

from django.db import connection
from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.trace import Link, Span, SpanKind, Status, StatusCode
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

from .metadata import Metadata

# Follows the global tracer provider, which messaging.telemetry sets when tracing is on.
tracer = trace.get_tracer("messaging")

# W3C Trace Context whatever OTEL_PROPAGATORS says: it is what the CloudEvents extension
# and the Kafka headers are defined as.
_W3C = TraceContextTextMapPropagator()
TRACE_HEADERS = ("traceparent", "tracestate")

SYSTEM = "kafka"


class Mode(StrEnum):
    """Why a record is being handled (the span's `shop.handling.mode`)."""

    LIVE = "live"  # read by the group's consumer
    RETRY = "retry"  # a parked record retried, or one that waited behind it handed on
    REPLAY = "replay"  # read again by manage.py replay_events
    DEAD_LETTER_RETRY = "dead_letter_retry"  # an operator's retry of a dead letter


def created(metadata: Metadata, topic: str) -> Metadata:
    """`metadata` carrying the trace context its message is created in, if there is one.

    A message written where no trace is active (a management command, a process with
    tracing off that handled a record without one) has none: nothing is made for it.
    """
    if not trace.get_current_span().get_span_context().is_valid:
        return metadata
    with tracer.start_as_current_span(f"create {metadata.type}", kind=SpanKind.PRODUCER) as span:
        if span.is_recording():
            span.set_attributes(
                {
                    **_operation("create", topic),
                    **_message_attributes(metadata),
                    "messaging.kafka.message.key": metadata.key,
                }
            )
        carrier: dict[str, str] = {}
        _W3C.inject(carrier)
    return replace(
        metadata,
        traceparent=carrier.get("traceparent", ""),
        tracestate=carrier.get("tracestate", ""),
    )


def sending(metadata: Metadata, topic: str) -> Span | None:
    """The relay's span for publishing one message, under the context it was created in;
    None for a message created outside any trace. End it with `sent` or `refused`."""
    parent = _extract({"traceparent": metadata.traceparent, "tracestate": metadata.tracestate})
    if parent is None:
        return None
    span = tracer.start_span(f"send {metadata.type}", context=parent, kind=SpanKind.PRODUCER)
    if span.is_recording():
        span.set_attributes({**_operation("send", topic), **_message_attributes(metadata)})
    return span


def sent(span: Span | None, partition: int, offset: int) -> None:
    if span is None:
        return
    span.set_attributes(
        {"messaging.destination.partition.id": str(partition), "messaging.kafka.offset": offset}
    )
    span.end()


def refused(span: Span | None, why: str) -> None:
    if span is None:
        return
    span.set_status(Status(StatusCode.ERROR, why))
    span.end()


@contextmanager
def processing(
    group: str, record, *, mode: Mode, attempt: int, start: int, deferred: list | None = None
) -> Iterator[Span]:
    """The span of one consumer group handling one record (a messaging.wire.RawRecord).

    Its parent is the context the record carries (the `traceparent` header, else
    `ce_traceparent`); a record without one is handled in the current context. The span
    running when it starts (a Celery task's, a replay's, a request's) is linked to it.
    `start` (time.time_ns()) is when the handling began. With `deferred`, the span is not
    ended but kept there with its end time, for `end` once its transaction's fate is known.
    """
    parent = _extract(_trace_headers(record.headers))
    current = trace.get_current_span().get_span_context()
    links = [Link(current)] if parent is not None and current.is_valid else []
    first_callback = len(connection.run_on_commit)
    with tracer.start_as_current_span(
        f"process {record.topic}",
        context=parent,
        kind=SpanKind.CONSUMER,
        links=links,
        start_time=start,
        record_exception=False,
        set_status_on_exception=False,
        end_on_exit=deferred is None,
    ) as span:
        if span.is_recording():
            span.set_attributes(
                {
                    **_operation("process", record.topic),
                    "messaging.consumer.group.name": group,
                    "messaging.destination.partition.id": str(record.partition),
                    "messaging.kafka.offset": record.offset,
                    "messaging.message.body.size": len(record.value or b""),
                    "shop.handling.mode": str(mode),
                    "shop.handling.attempt": attempt,
                }
            )
        try:
            yield span
        finally:
            _after_commit_in_this_context(first_callback)
            if deferred is not None and span.is_recording():
                deferred.append((span, time.time_ns()))


def end(deferred: list, *, undone: bool) -> None:
    """End the spans `processing` deferred, each at its own end time. Those of a try that
    was undone say so: what they reported handling was rolled back, and is handled again
    in spans of its own."""
    for span, at in deferred:
        if undone:
            span.set_attribute("shop.handling.outcome", "undone")
        span.end(end_time=at)
    deferred.clear()


def carrier() -> dict[str, str]:
    """The current trace context as W3C fields, to keep with work done later, elsewhere
    (`resumed`, `within`); empty outside a trace."""
    if not trace.get_current_span().get_span_context().is_valid:
        return {}
    fields: dict[str, str] = {}
    _W3C.inject(fields)
    return fields


@contextmanager
def within(fields: dict[str, str] | None) -> Iterator[None]:
    """Run in the context `fields` were taken in (`carrier`), making no span: a task sent
    here continues that trace. Unchanged when they hold none."""
    parent = _extract(fields or {})
    if parent is None:
        yield
        return
    token = otel_context.attach(parent)
    try:
        yield
    finally:
        otel_context.detach(token)


@contextmanager
def resumed(fields: dict[str, str] | None, name: str) -> Iterator[None]:
    """Do work for the trace `fields` were taken in (`carrier`) from one that may be
    another's: a task that delivers the notifications of several orders runs in the
    first one's trace. Work of the current trace runs as it is; work of another runs in a
    span `name` of that trace, linked to the current span."""
    parent = _extract(fields or {})
    current = trace.get_current_span().get_span_context()
    theirs = trace.get_current_span(parent).get_span_context() if parent else None
    if theirs is None or (current.is_valid and current.trace_id == theirs.trace_id):
        yield
        return
    links = [Link(current)] if current.is_valid else []
    with tracer.start_as_current_span(name, context=parent, links=links):
        yield


def describe(span: Span, metadata: Metadata) -> None:
    """Name the processing span after the message, once the record is read as one."""
    if span.is_recording():
        span.update_name(f"process {metadata.type}")
        span.set_attributes(
            {**_message_attributes(metadata), "messaging.kafka.message.key": metadata.key}
        )


def outcome(span: Span, name: str, *, error: str = "") -> None:
    """What the handling came to (`shop.handling.outcome`); an error marks the span failed."""
    if not span.is_recording():
        return
    span.set_attribute("shop.handling.outcome", name)
    if error:
        span.set_status(Status(StatusCode.ERROR, error))


def failed(exc: BaseException) -> None:
    """A handler raised: its exception's type and where it was raised, on the current span.

    Not its message, which may quote a customer's data: traces leave the database that
    erasure reaches. The admin's handling failures keep the message.
    """
    span = trace.get_current_span()
    if not span.is_recording():
        return
    name = f"{type(exc).__module__}.{type(exc).__qualname__}"
    span.add_event(
        "exception",
        {
            "exception.type": name,
            "exception.stacktrace": "".join(traceback.format_tb(exc.__traceback__)),
        },
    )
    span.set_status(Status(StatusCode.ERROR, name))


def _after_commit_in_this_context(first: int) -> None:
    """Callbacks the handlers registered to run after commit run in this span's context.

    A handling usually commits inside its span, but a retry, or a record handled while its
    key's lock is held, commits in an outer transaction after the span has ended: a task
    sent from such a callback (the warehouse's packing timer, a notification's delivery)
    would otherwise start a trace of its own instead of continuing this one.
    """
    if not connection.in_atomic_block or not trace.get_current_span().get_span_context().is_valid:
        return
    pending = connection.run_on_commit
    if len(pending) <= first:
        return
    here = otel_context.get_current()
    pending[first:] = [
        (savepoints, partial(_run_in, here, callback), robust)
        for savepoints, callback, robust in pending[first:]
    ]


def _run_in(ctx, callback) -> None:
    token = otel_context.attach(ctx)
    try:
        callback()
    finally:
        otel_context.detach(token)


def _trace_headers(headers) -> dict[str, str]:
    """traceparent and tracestate from a record's headers; the plain W3C ones first."""
    found = dict.fromkeys(TRACE_HEADERS, "")
    for name, value in headers:
        field = name.removeprefix("ce_")
        if field in found and value and (not found[field] or name == field):
            found[field] = value.decode("ascii", "replace")
    return found


def _extract(carrier: dict[str, str]):
    """The context in a carrier, or None when it holds no valid traceparent."""
    if not carrier.get("traceparent"):
        return None
    context = _W3C.extract(carrier)
    return context if trace.get_current_span(context).get_span_context().is_valid else None


def _operation(name: str, topic: str) -> dict:
    return {
        "messaging.system": SYSTEM,
        "messaging.operation.name": name,
        "messaging.operation.type": name,
        "messaging.destination.name": topic,
    }


def _message_attributes(metadata: Metadata) -> dict:
    attributes = {
        "messaging.message.id": str(metadata.message_id),
        # OpenTelemetry's name for what the shop calls the correlation id.
        "messaging.message.conversation_id": str(metadata.correlation_id),
        "cloudevents.event_id": str(metadata.message_id),
        "cloudevents.event_type": metadata.type,
        "cloudevents.event_source": metadata.source,
        "shop.message.kind": metadata.kind,
        "shop.message.version": metadata.version,
    }
    if metadata.causation_id is not None:
        attributes["shop.message.causation_id"] = str(metadata.causation_id)
    return attributes
