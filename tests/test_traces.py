"""One BUY is one trace, in process: the request, then every handling of every message of
its conversation, each under the message it handled, each message under what sent it.

The relay and the consumers are played here (each outbox row encoded as the relay encodes
it, handed to every group that reads its topic); tests/e2e/test_traces.py runs the same
conversation through the real processes, Kafka and Celery.
"""

import itertools
from collections import defaultdict

import pytest
from celery import current_app
from django.utils import timezone
from opentelemetry import trace
from opentelemetry.trace import SpanKind

from messaging import handling, tracing
from messaging.models import OutboxMessage
from messaging.registry import groups
from messaging.wire import RawRecord, encode
from shop.models import Order
from tests.e2e.conversation import CUSTOMER
from tests.factories import product

pytestmark = pytest.mark.django_db


def converse() -> None:
    """Publish and handle every message until the conversation has nothing more to say."""
    offsets = itertools.count()
    while rows := list(OutboxMessage.objects.pending().order_by("id")):
        for row in rows:
            OutboxMessage.objects.filter(id=row.id).update(published_at=timezone.now())
            wire = encode(row.topic, row.metadata(), row.payload)
            record = RawRecord(row.topic, 0, next(offsets), wire.key, wire.value, wire.headers)
            for group in groups().values():
                if group.process_records is None and row.topic in group.subscribed_topics():
                    handling.handle_batch(group, [record])


@pytest.fixture
def tasks_sent(monkeypatch) -> dict[str, list]:
    """The span each task was sent in, by task name: where Celery's instrumentation takes
    the context it writes into the task's headers. No task reaches Redis."""
    sent = defaultdict(list)

    def send_task(name, *args, **kwargs):
        sent[name].append(trace.get_current_span().get_span_context())

    monkeypatch.setattr(current_app, "send_task", send_task)
    return sent


def messages_of(type_name: str):
    return OutboxMessage.objects.get(type=type_name).message_id


def test_every_handling_of_a_buy_is_in_its_trace_under_the_message_it_handled(
    client, traces, tasks_sent, django_capture_on_commit_callbacks
):
    product("MUG-001", price="14.00", stock=10)

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/products/mug-001/buy/", {"quantity": "2", **CUSTOMER})
        converse()

    assert response.status_code == 302
    order = Order.objects.get()
    assert order.status == Order.Status.CONFIRMED  # then it waits for the packing timer
    spans = traces.get_finished_spans()
    [request] = [s for s in spans if s.kind == SpanKind.SERVER]
    assert request.attributes["http.route"] == "products/<slug:slug>/buy/"
    assert {s.context.trace_id for s in spans} == {request.context.trace_id}

    created = {
        s.attributes["messaging.message.id"]: s for s in spans if s.name.startswith("create ")
    }
    handled = [s for s in spans if s.kind == SpanKind.CONSUMER]
    messages = {str(row.message_id): row for row in OutboxMessage.objects.all()}
    assert set(created) == set(messages)  # every message was created in the trace
    for span in handled:
        message_id = span.attributes["messaging.message.id"]
        assert span.parent.span_id == created[message_id].context.span_id, span.name
        assert span.attributes["shop.handling.mode"] == "live"
        assert span.attributes["shop.handling.outcome"] == "handled"
        assert span.attributes["messaging.message.conversation_id"] == str(order.correlation_id)
    handling_of = {
        (s.attributes["messaging.consumer.group.name"], s.attributes["messaging.message.id"]): s
        for s in handled
    }
    for message_id, span in created.items():
        # Under the request, or under one handling of the message that caused it.
        cause = messages[message_id].causation_id
        parents = (
            [request]
            if cause is None
            else [s for (_, handled_id), s in handling_of.items() if handled_id == str(cause)]
        )
        assert span.parent.span_id in {p.context.span_id for p in parents}, span.name
    assert sorted(
        (s.attributes["messaging.consumer.group.name"], s.name.removeprefix("process "))
        for s in handled
    ) == [
        ("loyalty", "shop.OrderPlaced"),
        ("notifications", "shop.OrderConfirmed"),
        ("notifications", "shop.OrderPlaced"),
        ("sales", "shop.OrderPlaced"),
        ("shop", "shop.PlaceOrder"),
        ("shop", "warehouse.StockLevelChanged"),
        ("shop", "warehouse.StockReserved"),
        ("warehouse", "shop.OrderPlaced"),
        ("warehouse", "warehouse.DispatchOrder"),
    ]
    # The packing timer and the deliveries are sent from within the handlings that decided
    # them, so they run in the same trace (tests/e2e/test_traces.py runs them).
    [ship] = tasks_sent["warehouse.ship"]
    dispatch = handling_of[("warehouse", str(messages_of("warehouse.DispatchOrder")))]
    assert ship.span_id == dispatch.context.span_id
    deliveries = tasks_sent["notifications.deliver"]
    assert len(deliveries) == 2  # an email and a text in one task, when received and confirmed
    notifying = {s.context.span_id for k, s in handling_of.items() if k[0] == "notifications"}
    assert {d.span_id for d in deliveries} == notifying


def test_a_task_delivering_several_orders_delivers_each_in_its_own_trace(
    traces, monkeypatch, django_capture_on_commit_callbacks
):
    """A consumer's batch of two orders' OrderPlaced, each from a trace of its own, makes one
    delivery task (messaging.oncommit). It is sent in the first order's trace; the second
    order's email and text are delivered, and announced, in spans of their own trace."""
    import dataclasses
    import uuid

    from notifications import delivery
    from shop.contracts import OrderPlaced
    from tests.factories import order_placed, record_of

    traced = {}
    records = []
    for offset in range(2):
        order = uuid.uuid4()
        with tracing.tracer.start_as_current_span("BUY", kind=SpanKind.SERVER) as buy:
            traced[order] = buy.get_span_context().trace_id
            fields = tracing.carrier()
        record = record_of(order_placed(("MUG-001", 1), order_id=order), offset=offset)
        headers = [*record.headers, ("traceparent", fields["traceparent"].encode())]
        records.append(dataclasses.replace(record, headers=headers))
    first, second = traced
    sent = []

    def send_task(name, args=(), kwargs=None, **options):
        sent.append((name, args, kwargs or {}, trace.get_current_span().get_span_context()))

    monkeypatch.setattr(current_app, "send_task", send_task)

    with django_capture_on_commit_callbacks(execute=True):
        handling.handle_batch(groups()["notifications"], records)
    [(name, (ids,), kwargs, context)] = sent
    assert name == "notifications.deliver" and len(ids) == 4
    assert context.trace_id == traced[first]
    # The task runs in the trace it was sent in (Celery's instrumentation carries it).
    with (
        tracing.within({"traceparent": _traceparent(context)}),
        tracing.tracer.start_as_current_span("run notifications.deliver"),
        django_capture_on_commit_callbacks(execute=True),
    ):
        delivery.notifications_deliver(ids=ids, traces=kwargs["traces"])

    spans = traces.get_finished_spans()
    handled = {
        s.attributes["messaging.message.conversation_id"]: s
        for s in spans
        if s.name == f"process {OrderPlaced.type_name()}"
    }
    assert len(handled) == 2
    second_handling = next(s for s in handled.values() if s.context.trace_id == traced[second])
    for step in ("deliver notification", "announce notification"):
        made = [s for s in spans if s.name == step]
        assert len(made) == 2, step  # the second order's email and text; none for the first's
        assert {s.context.trace_id for s in made} == {traced[second]}
        assert {s.parent.span_id for s in made} == {second_handling.context.span_id}
    announced = {
        m.payload["order_id"]: m.traceparent
        for m in OutboxMessage.objects.filter(
            type__in=["notifications.EmailSent", "notifications.TextSent"]
        )
    }
    assert {order: _trace_of(tp) for order, tp in announced.items()} == {
        str(order): f"{trace_id:032x}" for order, trace_id in traced.items()
    }


def _traceparent(context) -> str:
    return f"00-{context.trace_id:032x}-{context.span_id:016x}-01"


def _trace_of(traceparent: str) -> str:
    return traceparent.split("-")[1]
