"""After the fault: wait until the shop is quiet, then check that nothing was lost or done twice.

Each check compares two independent records of the same facts: the orders with the stock,
the sales figures and the loyalty points, the outbox with what Kafka holds, what Kafka holds
with what every consumer group's inbox says it handled.
"""

import math
from collections import Counter, defaultdict
from decimal import Decimal

from django.db.models import Sum
from kafka import TopicPartition

from loyalty.models import Award
from messagelog.lag import total_lag_by_group
from messagelog.models import MessageRecord
from messaging.contracts import contract_topics
from messaging.kafka import end_offsets, reader
from messaging.models import DeadLetter, HandlingFailure, InboxEntry, OutboxMessage, ParkedRecord
from messaging.registry import groups
from notifications.models import Notification, SentEmail, SentText
from sales.models import DailyProductSales
from shop.models import Order, OrderLine
from tests.faults.report import Exercised
from warehouse.models import Reservation, Stock

# The news each event of an order's conversation makes the notifications app send.
NEWS = {
    "shop.OrderPlaced": "received",
    "shop.OrderConfirmed": "confirmed",
    "warehouse.OrderDispatched": "dispatched",
    "shop.OrderCancelled": "cancelled",
}


def pending_work(placed: list) -> dict[str, int]:
    """What is still in flight; all zero (lag included) means the shop is quiet."""
    pending = {
        "outbox rows unpublished": OutboxMessage.objects.filter(published_at=None).count(),
        "records parked for a retry": ParkedRecord.objects.count(),
        "BUYs without an order yet": len(placed) - Order.objects.filter(id__in=placed).count(),
        "orders not settled": Order.objects.exclude(status__in=Order.SETTLED).count(),
        "reservations not settled": Reservation.objects.filter(
            status__in=(Reservation.Status.RESERVED, Reservation.Status.PACKING)
        ).count(),
        # A failed notification is not in flight: the checks report it, with its error.
        "notifications not sent yet": Notification.objects.filter(
            status__in=(Notification.Status.PENDING, Notification.Status.SENDING)
        ).count(),
        "dead letters not on their topic": DeadLetter.objects.filter(published_at=None).count(),
    }
    if not any(pending.values()):  # lag costs a round of broker requests: ask last
        pending |= {f"lag of {g}": lag for g, lag in total_lag_by_group().items() if lag}
    return {what: n for what, n in pending.items() if n}


def check(
    placed: list,
    initial_stock: dict[str, int],
    *,
    poison=frozenset(),
    broker_restarted: bool = False,
) -> Exercised:
    """Every invariant of the issue "Nothing lost, nothing twice"; returns what was exercised.

    `poison` holds (group, topic, partition, offset) of every dead letter the test expects.
    After a broker restart, offsets start again from 0: the log is no longer compared with
    the broker partition by partition, nor are offsets compared across the restart.
    """
    orders = _orders_settled(placed)
    _one_reservation_and_one_dispatch(orders)
    _one_email_and_one_text_per_news(orders)
    _stock_matches_orders(orders, initial_stock)
    _sales_match_orders(orders)
    points_match_orders(orders)
    republished = _log_holds_every_record_once(compare_with_broker=not broker_restarted)
    if not broker_restarted:
        _causes_before_effects()
        _each_order_in_written_order()
    dead_letters = _every_group_handled_every_message_once(poison)
    return Exercised(
        orders=len(orders),
        dispatched=sum(o.status == Order.Status.DISPATCHED for o in orders.values()),
        cancelled=sum(o.status == Order.Status.CANCELLED for o in orders.values()),
        records=MessageRecord.objects.count(),
        deliveries=InboxEntry.objects.count(),
        duplicates_by_group=dict(
            InboxEntry.objects.values_list("group").annotate(Sum("duplicates")).order_by("group")
        ),
        failed_attempts=HandlingFailure.objects.count(),
        dead_letters=dead_letters,
        republished=republished,
    )


def _orders_settled(placed: list) -> dict:
    orders = {o.id: o for o in Order.objects.prefetch_related("lines")}
    assert set(orders) == set(placed), "every BUY becomes exactly one order"
    unsettled = {o.id: o.status for o in orders.values() if o.status not in Order.SETTLED}
    assert not unsettled, f"orders not dispatched or cancelled: {unsettled}"
    return orders


def _one_reservation_and_one_dispatch(orders: dict) -> None:
    reservations = Counter(Reservation.objects.values_list("order_id", flat=True))
    assert max(reservations.values(), default=1) == 1
    shipped = set(
        Reservation.objects.filter(status=Reservation.Status.DISPATCHED).values_list(
            "order_id", flat=True
        )
    )
    dispatched = {i for i, o in orders.items() if o.status == Order.Status.DISPATCHED}
    assert shipped == dispatched, (
        "the warehouse shipped exactly the orders the shop calls dispatched"
    )
    announced = Counter(
        OutboxMessage.objects.filter(type="warehouse.OrderDispatched").values_list("key", flat=True)
    )
    assert announced == Counter(str(i) for i in dispatched), "one OrderDispatched per parcel"


def _one_email_and_one_text_per_news(orders: dict) -> None:
    expected = {
        (key, NEWS[type_], channel)
        for key, type_ in OutboxMessage.objects.filter(type__in=NEWS).values_list("key", "type")
        for channel in Notification.Channel.values
    }
    decided = Counter(
        (str(order_id), kind, channel)
        for order_id, kind, channel in Notification.objects.values_list(
            "order_id", "kind", "channel"
        )
    )
    assert set(decided) == expected, (
        f"news missing: {expected - set(decided)}; news nobody caused: {set(decided) - expected}"
    )
    assert {str(i) for i in orders} == {key for key, _, _ in expected}
    failed = Notification.objects.filter(status=Notification.Status.FAILED)
    assert not failed.exists(), f"given up: {list(failed.values_list('id', 'last_error'))}"
    emails = Counter(SentEmail.objects.values_list("subject", flat=True))
    subjects = Counter(
        Notification.objects.filter(channel="email").values_list("subject", flat=True)
    )
    assert emails == subjects, "each email sent once (subjects name the order and the news)"
    texts = Counter(SentText.objects.values_list("body", flat=True))
    assert texts == Counter(
        Notification.objects.filter(channel="text").values_list("body", flat=True)
    )


def _stock_matches_orders(orders: dict, initial: dict[str, int]) -> None:
    shipped = Counter()
    for line in OrderLine.objects.filter(order__status=Order.Status.DISPATCHED):
        shipped[line.sku] += line.quantity
    stock = {s.sku: (s.on_hand, s.reserved) for s in Stock.objects.all()}
    assert stock == {sku: (n - shipped[sku], 0) for sku, n in initial.items()}


def _sales_match_orders(orders: dict) -> None:
    kept, cancelled = defaultdict(lambda: [0, 0, Decimal(0)]), defaultdict(lambda: [0, 0])
    for order in orders.values():
        for line in order.lines.all():
            if order.status == Order.Status.CANCELLED:
                cancelled[line.sku][0] += 1
                cancelled[line.sku][1] += line.quantity
            else:
                kept[line.sku][0] += 1
                kept[line.sku][1] += line.quantity
                kept[line.sku][2] += line.quantity * line.unit_price
    figures = DailyProductSales.objects.values("sku").annotate(
        o=Sum("orders"), u=Sum("units"), r=Sum("revenue"), co=Sum("cancelled_orders"),
        cu=Sum("cancelled_units"),
    )  # fmt: skip
    assert {f["sku"]: (f["o"], f["u"], f["r"], f["co"], f["cu"]) for f in figures} == {
        sku: (*kept[sku], *cancelled[sku]) for sku in set(kept) | set(cancelled)
    }


def points_match_orders(orders: dict) -> None:
    """Each placed order earned its customer one point per whole unit of its total, and a
    cancelled one's points were taken back: awarded once, whatever was read twice."""
    awards = {
        a.order_id: (a.email, a.points, a.cancelled) for a in Award.objects.exclude(placed_at=None)
    }
    assert awards == {
        o.id: (o.email.lower(), math.floor(o.total), o.status == Order.Status.CANCELLED)
        for o in orders.values()
    }
    assert not Award.objects.filter(placed_at=None).exists(), "a cancellation without its order"


def _log_holds_every_record_once(*, compare_with_broker: bool = True) -> int:
    """The audit log against the broker, and against the outbox; returns republished ids."""
    if compare_with_broker:
        client = reader()
        try:
            partitions = [
                TopicPartition(topic, p)
                for topic in contract_topics()
                for p in sorted(client.partitions_for_topic(topic) or [])
            ]
            ends = end_offsets(client, partitions)
        finally:
            client.close()
        logged = Counter(MessageRecord.objects.values_list("topic", "partition"))
        assert {(tp.topic, tp.partition): n for tp, n in ends.items() if n} == dict(logged)

    sent = set(OutboxMessage.objects.values_list("message_id", flat=True))
    on_kafka = Counter(
        MessageRecord.objects.exclude(message_id=None).values_list("message_id", flat=True)
    )
    assert sent <= set(on_kafka), "every outbox row reached Kafka"
    copies = defaultdict(set)
    for message_id, type_, key, payload in MessageRecord.objects.filter(
        message_id__in=[m for m, n in on_kafka.items() if n > 1]
    ).values_list("message_id", "type", "key", "payload"):
        copies[message_id].add((type_, key, repr(payload)))
    assert all(len(c) == 1 for c in copies.values()), "a republished record is the same record"
    return len(copies)


def _causes_before_effects() -> None:
    """On each partition, a message first appears after the messages that caused it.

    Only causality orders messages: two transactions that share no lock (an order's email
    and its text) commit in either order, and the relay publishes what has committed.
    """
    rows = OutboxMessage.objects.values_list("message_id", "causation_id", "topic", "key")
    cause_of = {m: c for m, c, _, _ in rows}
    where = {m: (topic, key) for m, _, topic, key in rows}
    first = {}
    for message_id, offset in (
        MessageRecord.objects.exclude(message_id=None)
        .order_by("offset")
        .values_list("message_id", "offset")
    ):
        first.setdefault(message_id, offset)
    for message_id, place in where.items():
        cause = cause_of[message_id]
        while cause in cause_of:
            if where[cause] == place:  # same topic and key: same partition
                assert first[cause] < first[message_id], f"{message_id} overtook its cause"
            cause = cause_of[cause]


def _each_order_in_written_order() -> None:
    """An order's own messages (the shop writes them all under the order's row lock) first
    appear on their partition in the order they were written, with one relay or several."""
    first = {}
    for message_id, offset in (
        MessageRecord.objects.filter(topic__in=ORDERED_TOPICS)
        .exclude(message_id=None)
        .values_list("message_id", "offset")
    ):
        first[message_id] = min(offset, first.get(message_id, offset))
    by_key = defaultdict(list)
    for topic, key, message_id in (
        OutboxMessage.objects.filter(topic__in=ORDERED_TOPICS)
        .order_by("id")
        .values_list("topic", "key", "message_id")
    ):
        by_key[(topic, key)].append(first[message_id])
    overtaken = {where: offsets for where, offsets in by_key.items() if offsets != sorted(offsets)}
    assert not overtaken, f"messages of an order overtook earlier ones: {overtaken}"


# The topics where one order's messages are all written by the shop, under its row lock.
ORDERED_TOPICS = ("orders", "warehouse.commands")


def _every_group_handled_every_message_once(poison) -> int:
    dead_letters = set(DeadLetter.objects.values_list("group", "topic", "partition", "offset"))
    assert dead_letters == set(poison), "dead letters are exactly the injected poison"
    for name, group in groups().items():
        if group.process_records is not None:
            continue  # the audit group: checked against the broker above
        # A dead letter an operator retried was handled after all.
        dead = set(
            DeadLetter.objects.filter(group=name)
            .exclude(message_id=None)
            .exclude(status=DeadLetter.Status.RETRIED)
            .values_list("message_id", flat=True)
        )
        for type_ in group.handlers:
            on_kafka = set(
                MessageRecord.objects.filter(type=type_).values_list("message_id", flat=True)
            )
            handled = Counter(
                InboxEntry.objects.filter(group=name, type=type_).values_list(
                    "message_id", flat=True
                )
            )
            assert set(handled) == on_kafka - dead, f"{name} handled each {type_} once"
    return len(dead_letters)
