"""Trace context through the outbox: written with the message, on the record, the handling's
parent; retries, replays and redeliveries in the same trace (messaging.tracing)."""

import json
import uuid

import pytest
from django.db import transaction
from jsonschema.validators import Draft7Validator
from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.trace import SpanKind, StatusCode
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

from messaging import handling, outbox, parking, registry, retrying, tracing
from messaging.asyncapi import build
from messaging.inbox import Outcome, handle_record
from messaging.kafka import producer
from messaging.models import OutboxMessage, ParkedRecord
from messaging.relay import Relay
from messaging.tracing import Mode
from messaging.wire import RawRecord, decode_headers, encode
from shop.contracts import OrderCancelled, OrderPlaced, OrderRejected
from tests.factories import order_placed, product, raw_record
from tests.messaging.test_relay import TOPIC, read_key, topics  # noqa: F401 (a fixture)

pytestmark = pytest.mark.django_db


def a_request():
    """A span as the web's instrumentation makes one for a request."""
    return tracing.tracer.start_as_current_span("POST /products/{slug}/buy/", kind=SpanKind.SERVER)


def sent(message, **kwargs) -> OutboxMessage:
    with transaction.atomic():
        metadata = outbox.send(message, **kwargs)
    return OutboxMessage.objects.get(message_id=metadata.message_id)


def record_of(row: OutboxMessage, offset: int = 0) -> RawRecord:
    """The record the relay makes of an outbox row."""
    wire = encode(row.topic, row.metadata(), row.payload)
    return RawRecord(wire.topic, 0, offset, wire.key, wire.value, wire.headers)


def spans(traces, name: str | None = None, **attributes) -> list:
    return [
        s
        for s in traces.get_finished_spans()
        if (name is None or s.name == name)
        and all(s.attributes.get(k) == v for k, v in attributes.items())
    ]


def hex_ids(span) -> tuple[str, str]:
    return f"{span.context.trace_id:032x}", f"{span.context.span_id:016x}"


def test_a_message_written_outside_any_trace_carries_none(traces):
    row = sent(OrderCancelled(order_id=uuid.uuid4(), reason="x"))

    assert (row.traceparent, row.tracestate) == ("", "")
    headers = dict(record_of(row).headers)
    assert not {"traceparent", "ce_traceparent", "tracestate"} & set(headers)
    assert traces.get_finished_spans() == ()


def test_the_outbox_keeps_the_context_of_a_create_span_and_the_record_carries_it(traces):
    with a_request() as request:
        row = sent(OrderCancelled(order_id=uuid.uuid4(), reason="x"))

    [create] = spans(traces, "create shop.OrderCancelled")
    assert create.kind == SpanKind.PRODUCER
    assert create.parent.span_id == request.get_span_context().span_id
    trace_id, span_id = hex_ids(create)
    assert row.traceparent.startswith(f"00-{trace_id}-{span_id}-")  # then the flags
    assert create.attributes["messaging.destination.name"] == "orders"
    assert create.attributes["messaging.operation.type"] == "create"
    assert create.attributes["messaging.message.id"] == str(row.message_id)
    headers = dict(record_of(row).headers)
    # The W3C header traced Kafka clients read, and the CloudEvents extension attribute.
    assert headers["traceparent"] == headers["ce_traceparent"] == row.traceparent.encode()
    assert "tracestate" not in headers


def test_the_event_api_document_describes_the_trace_headers(traces):
    with a_request():
        row = sent(OrderCancelled(order_id=uuid.uuid4(), reason="x"))
    headers = decode_headers(record_of(row).headers)
    schema = build()["components"]["messages"]["shop.OrderCancelled"]["headers"]

    assert {"traceparent", "ce_traceparent"} <= set(schema["properties"])
    assert list(Draft7Validator(schema).iter_errors(headers)) == []
    assert not Draft7Validator(schema).is_valid({**headers, "traceparent": "not-a-trace"})
    assert "traceparent" not in schema["required"]  # a message outside any trace has none


def test_tracestate_travels_beside_traceparent(traces):
    incoming = {
        "traceparent": "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
        "tracestate": "vendor=opaque",
    }
    token = otel_context.attach(TraceContextTextMapPropagator().extract(incoming))
    try:
        row = sent(OrderCancelled(order_id=uuid.uuid4(), reason="x"))
    finally:
        otel_context.detach(token)

    assert row.traceparent.startswith("00-0af7651916cd43dd8448eb211c80319c-")
    assert row.tracestate == "vendor=opaque"
    headers = dict(record_of(row).headers)
    assert headers["tracestate"] == headers["ce_tracestate"] == b"vendor=opaque"


def test_without_an_sdk_a_context_is_passed_on_and_nothing_is_recorded():
    """Tracing off (no provider): the API records nothing, but a record's context reaches
    the messages its handling sends, so a traced process further on stays in the trace."""
    incoming = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
    token = otel_context.attach(TraceContextTextMapPropagator().extract({"traceparent": incoming}))
    try:
        row = sent(OrderCancelled(order_id=uuid.uuid4(), reason="x"))
    finally:
        otel_context.detach(token)

    assert row.traceparent == incoming


@pytest.mark.usefixtures("topics")
def test_the_relay_writes_the_context_on_the_record_under_a_send_span(traces):
    with a_request():
        row = sent(OrderCancelled(order_id=uuid.uuid4(), reason="x"))
    OutboxMessage.objects.filter(id=row.id).update(topic=TOPIC)

    relay, kafka = Relay(), producer()
    with relay.leadership():
        relay.publish_batch(kafka)
    kafka.close(timeout=1)

    [record] = read_key(row.key)
    headers = dict(record.headers)
    assert headers["traceparent"] == headers["ce_traceparent"] == row.traceparent.encode()
    [create] = spans(traces, "create shop.OrderCancelled")
    [send] = spans(traces, "send shop.OrderCancelled")
    # The relay's span hangs under the message's creation, beside its handlings: the time
    # between them is the outbox's wait.
    assert send.kind == SpanKind.PRODUCER
    assert send.parent.span_id == create.context.span_id
    assert send.attributes["messaging.destination.name"] == TOPIC
    assert send.attributes["messaging.destination.partition.id"] == str(record.partition)
    assert send.attributes["messaging.kafka.offset"] == record.offset


def test_a_handling_is_a_consumer_span_under_the_create_span_of_its_record(traces):
    product("MUG-001", stock=5)
    with a_request():
        placed = sent(order_placed(("MUG-001", 2)))
    record = record_of(placed, offset=7)

    assert handling.handle_batch(registry.group("warehouse"), [record]) == [Outcome.HANDLED]

    [create] = spans(traces, "create shop.OrderPlaced")
    [process] = spans(traces, "process shop.OrderPlaced")
    assert process.kind == SpanKind.CONSUMER
    assert process.context.trace_id == create.context.trace_id
    assert process.parent.span_id == create.context.span_id
    assert process.parent.is_remote
    assert {k: v for k, v in process.attributes.items() if not k.startswith("cloudevents.")} == {
        "messaging.system": "kafka",
        "messaging.operation.name": "process",
        "messaging.operation.type": "process",
        "messaging.destination.name": "orders",
        "messaging.consumer.group.name": "warehouse",
        "messaging.destination.partition.id": "0",
        "messaging.kafka.offset": 7,
        "messaging.kafka.message.key": str(placed.key),
        "messaging.message.body.size": len(record.value),
        "messaging.message.id": str(placed.message_id),
        "messaging.message.conversation_id": str(placed.correlation_id),
        "shop.message.kind": "event",
        "shop.message.version": 2,
        "shop.handling.mode": "live",
        "shop.handling.attempt": 1,
        "shop.handling.outcome": "handled",
    }
    # What the handling sent is created under it: the next hop of the same trace.
    [reserved] = spans(traces, "create warehouse.StockReserved")
    assert reserved.parent.span_id == process.context.span_id
    assert reserved.attributes["shop.message.causation_id"] == str(placed.message_id)
    row = OutboxMessage.objects.get(type="warehouse.StockReserved")
    assert row.traceparent.startswith("00-{}-{}-".format(*hex_ids(reserved)))


def test_a_record_without_a_context_is_handled_in_a_trace_of_its_own(traces):
    product("MUG-001", stock=5)
    row = sent(order_placed(("MUG-001", 1)))

    handling.handle_batch(registry.group("warehouse"), [record_of(row)])

    [process] = spans(traces, "process shop.OrderPlaced")
    assert process.parent is None
    [reserved] = spans(traces, "create warehouse.StockReserved")
    assert reserved.context.trace_id == process.context.trace_id


def test_a_message_the_group_does_not_follow_makes_no_span(traces):
    with a_request():
        row = sent(OrderRejected(order_id=uuid.uuid4(), reason="x"))

    assert handling.handle_batch(registry.group("warehouse"), [record_of(row)]) == ["ignored"]

    assert [s.kind for s in traces.get_finished_spans()] == [SpanKind.PRODUCER, SpanKind.SERVER]


def test_a_record_that_is_no_cloudevent_is_dead_lettered_in_a_failed_span(traces):
    parent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"

    handle_record(registry.group("sales"), raw_record(b"{}", [("traceparent", parent.encode())]))

    [process] = spans(traces, "process orders")
    assert f"{process.context.trace_id:032x}" == "0af7651916cd43dd8448eb211c80319c"
    assert process.attributes["shop.handling.outcome"] == "dead_lettered"
    assert process.status.status_code == StatusCode.ERROR
    assert process.status.description == "not a readable CloudEvent"


@pytest.fixture
def flaky(monkeypatch, settings):
    """A group whose handler fails while `failing` says so, and records in what span the
    callbacks it registers after commit run."""
    settings.MESSAGING = {**settings.MESSAGING, "HANDLER_ATTEMPTS": 2}
    state = {"failing": True, "after_commit": []}

    def handler(message, metadata):
        transaction.on_commit(
            lambda: state["after_commit"].append(trace.get_current_span().get_span_context())
        )
        if state["failing"]:
            raise RuntimeError(f"carrier API down for {message.customer.email}")

    group = registry.ConsumerGroup("flaky", handlers={"shop.OrderPlaced": [handler]})
    monkeypatch.setitem(registry._GROUPS, "flaky", group)
    return group, state


def test_retries_and_an_operators_redelivery_are_spans_of_the_same_trace(traces, flaky):
    group, state = flaky
    with a_request():
        row = sent(order_placed(("MUG-001", 1)))
    [create] = spans(traces, "create shop.OrderPlaced")

    assert handling.handle_batch(group, [record_of(row)]) == [parking.PARKED]
    ParkedRecord.objects.update(next_attempt_at=None)
    with tracing.tracer.start_as_current_span("run/messaging.retry_parked") as task:
        retrying.retry("flaky", row.key)  # the last attempt: a dead letter
    state["failing"] = False
    letter = ParkedRecord.objects.get().dead_letter
    assert retrying.redeliver_dead_letter(letter.id, by="operator") == Outcome.HANDLED

    # The consumer's batch failed on its first, optimistic try, which was undone.
    undone, live, retry, redelivery = spans(traces, "process shop.OrderPlaced")
    assert undone.attributes["shop.handling.outcome"] == "undone"
    for span in (undone, live, retry, redelivery):
        assert span.context.trace_id == create.context.trace_id
        assert span.parent.span_id == create.context.span_id
    assert [s.attributes["shop.handling.mode"] for s in (live, retry, redelivery)] == [
        "live",
        "retry",
        "dead_letter_retry",
    ]
    assert [s.attributes["shop.handling.attempt"] for s in (live, retry, redelivery)] == [1, 2, 3]
    assert [s.attributes["shop.handling.outcome"] for s in (live, retry, redelivery)] == [
        "failed",
        "failed",
        "handled",
    ]
    # What ran the retry is linked, not made its parent.
    assert [link.context.span_id for link in retry.links] == [task.get_span_context().span_id]
    # A failure says what raised where, never its message (which may quote a customer).
    assert live.status.status_code == StatusCode.ERROR
    assert live.status.description == "builtins.RuntimeError"
    [event] = live.events
    assert event.attributes["exception.type"] == "builtins.RuntimeError"
    assert "in handler" in event.attributes["exception.stacktrace"]
    assert "ada@example.com" not in json.dumps(dict(event.attributes))


def test_a_batch_undone_by_one_record_reports_its_first_try_as_undone(traces):
    """A record failing in an optimistic batch undoes what its neighbours did too: the
    first try's spans end marked undone, and each record's handling again is a span of its
    own, with what it came to."""
    product("MUG-001", stock=5)
    with a_request():
        rows = [sent(order_placed(("MUG-001", 1))) for _ in range(3)]
    group = registry.ConsumerGroup("test-undone")
    failing = rows[1].message_id

    def explode_for_one(event, metadata):
        if metadata.message_id == failing:
            raise RuntimeError("disk on fire")

    registry._add(group, OrderPlaced, [explode_for_one])
    records = [record_of(row, offset=i) for i, row in enumerate(rows)]

    assert handling.handle_batch(group, records) == [
        Outcome.HANDLED,
        parking.PARKED,
        Outcome.HANDLED,
    ]

    handled = spans(traces, "process shop.OrderPlaced")
    outcomes = [s.attributes["shop.handling.outcome"] for s in handled]
    # The try undone ends at the failure: two spans, ended when the batch was undone.
    assert outcomes == ["undone", "undone", "handled", "failed", "handled"]
    by_message = [s.attributes["messaging.message.id"] for s in handled]
    assert by_message == [str(r.message_id) for r in (rows[0], rows[1], *rows)]


def test_a_replay_is_a_span_of_the_trace_marked_replay(traces):
    product("MUG-001", stock=5)
    with a_request():
        row = sent(order_placed(("MUG-001", 1)))

    handling.handle(registry.group("warehouse"), record_of(row), set(), mode=Mode.REPLAY)

    [create] = spans(traces, "create shop.OrderPlaced")
    [process] = spans(traces, "process shop.OrderPlaced")
    assert process.parent.span_id == create.context.span_id
    assert process.attributes["shop.handling.mode"] == "replay"


def test_callbacks_after_commit_run_in_the_handling_even_when_it_commits_later(
    traces, flaky, django_capture_on_commit_callbacks
):
    """A retry commits after its span ended; a task its handler sends after commit (the
    packing timer, a delivery) must still be sent from within the handling's trace."""
    group, state = flaky
    state["failing"] = False
    with a_request():
        row = sent(order_placed(("MUG-001", 1)))

    with django_capture_on_commit_callbacks(execute=True):
        with transaction.atomic():  # the key's lock, as a retry holds it
            handle_record(group, record_of(row), mode=Mode.RETRY)
        assert trace.get_current_span().get_span_context().is_valid is False

    [process] = spans(traces, "process shop.OrderPlaced")
    [during] = state["after_commit"]
    assert during.span_id == process.context.span_id
    assert trace.get_current_span().get_span_context().is_valid is False
