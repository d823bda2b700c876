"""The inbox (messaging.inbox): one record handled once by a consumer group, or dead-lettered,
against a real PostgreSQL."""

import dataclasses
import json
import uuid

import pytest

from messaging import registry
from messaging.inbox import HandlerFailed, Outcome, handle_record
from messaging.models import DeadLetter, HandlingFailure, InboxEntry, OutboxMessage
from shop.contracts import CancelOrder, OrderPlaced
from tests.factories import order_placed, product, raw_record, record_of
from warehouse.models import Reservation, Stock

pytestmark = pytest.mark.django_db


@pytest.fixture
def warehouse():
    return registry.group("warehouse")


def test_a_record_delivered_twice_has_one_effect(warehouse):
    product("MUG-001", stock=10)
    record = record_of(order_placed(("MUG-001", 3)))

    first = handle_record(warehouse, record)
    second = handle_record(warehouse, record)

    assert (first, second) == (Outcome.HANDLED, Outcome.DUPLICATE)
    assert Stock.objects.get(sku="MUG-001").reserved == 3
    assert Reservation.objects.count() == 1
    assert OutboxMessage.objects.filter(type="warehouse.StockReserved").count() == 1
    assert InboxEntry.objects.get(group="warehouse").duplicates == 1


def test_the_outgoing_message_continues_the_conversation(warehouse):
    product("MUG-001")
    record = record_of(order_placed(("MUG-001", 1)))

    handle_record(warehouse, record)

    headers = dict(record.headers)
    reply = OutboxMessage.objects.get(type="warehouse.StockReserved")
    assert str(reply.correlation_id).encode() == headers["ce_correlationid"]
    assert str(reply.causation_id).encode() == headers["ce_id"]
    assert reply.key == record.key.decode()


def test_a_message_the_group_does_not_follow_is_ignored():
    record = record_of(order_placed(("MUG-001", 1)))

    assert handle_record(registry.group("shop"), record) == Outcome.IGNORED
    assert not InboxEntry.objects.exists()


@pytest.mark.parametrize(
    ("value", "headers", "reason"),
    [
        (b"\xff\xfe not json", None, DeadLetter.Reason.MALFORMED),
        (b'{"order_id": "x"}', [("ce_type", b"shop.OrderPlaced")], DeadLetter.Reason.MALFORMED),
    ],
)
def test_an_unreadable_record_is_dead_lettered(warehouse, value, headers, reason):
    outcome = handle_record(warehouse, raw_record(value, headers, offset=7))

    assert outcome == Outcome.DEAD_LETTERED
    letter = DeadLetter.objects.get()
    assert (letter.group, letter.topic, letter.offset, letter.reason) == (
        "warehouse",
        "orders",
        7,
        reason,
    )
    assert letter.error


def test_an_unknown_type_is_dead_lettered(warehouse):
    record = record_of(order_placed(("MUG-001", 1)))
    headers = [(k, b"shop.OrderTeleported" if k == "ce_type" else v) for k, v in record.headers]

    handle_record(warehouse, raw_record(record.value, headers))

    letter = DeadLetter.objects.get()
    assert letter.reason == DeadLetter.Reason.UNKNOWN_TYPE
    assert "shop.OrderTeleported" in letter.error


def test_a_record_that_breaks_its_contract_is_dead_lettered(warehouse):
    record = record_of(order_placed(("MUG-001", 1)))
    data = json.loads(record.value)
    data["lines"][0]["quantity"] = -5
    value = json.dumps(data).encode()

    assert handle_record(warehouse, raw_record(value, record.headers)) == Outcome.DEAD_LETTERED

    letter = DeadLetter.objects.get()
    assert letter.reason == DeadLetter.Reason.INVALID
    assert "quantity" in letter.error
    assert letter.type == OrderPlaced.type_name()


@pytest.mark.parametrize(
    ("change", "why"),
    [
        ({"topic": "warehouse.events"}, "belongs on the topic orders, not on warehouse.events"),
        ({"ce_messagekind": b"command"}, "is an event, but the record calls itself a command"),
        ({"ce_source": b"warehouse"}, "is published by shop, but the record names warehouse"),
    ],
)
def test_a_record_that_does_not_belong_where_it_was_read_is_dead_lettered(warehouse, change, why):
    """`ce_type` is only a claim: a command on an event topic is not handled as a command."""
    product("MUG-001")
    record = record_of(order_placed(("MUG-001", 1)))
    headers = [(name, change.get(name, value)) for name, value in record.headers]
    record = dataclasses.replace(record, headers=headers, topic=change.get("topic", record.topic))

    assert handle_record(warehouse, record) == Outcome.DEAD_LETTERED

    letter = DeadLetter.objects.get()
    assert (letter.reason, letter.error) == (DeadLetter.Reason.INVALID, f"shop.OrderPlaced {why}")
    assert not Reservation.objects.exists() and not InboxEntry.objects.exists()


def test_a_command_written_to_an_event_topic_is_not_handled():
    record = record_of(CancelOrder(order_id=uuid.uuid4()))
    record = dataclasses.replace(record, topic="warehouse.events")

    assert handle_record(registry.group("shop"), record) == Outcome.DEAD_LETTERED
    assert "belongs on the topic shop.commands" in DeadLetter.objects.get().error


def test_a_failing_handler_raises_and_leaves_no_effects_but_a_failure_row():
    calls = []

    def explode(event, metadata):
        calls.append(event.order_id)
        raise RuntimeError("disk on fire")

    group = registry.ConsumerGroup("test-failing")
    registry._add(group, OrderPlaced, [_reserve_then(explode)])
    product("MUG-001")

    with pytest.raises(HandlerFailed, match="disk on fire") as failed:
        handle_record(group, record_of(order_placed(("MUG-001", 1))))

    assert len(calls) == 1
    assert "RuntimeError" in failed.value.trace
    # Everything the handler did was rolled back with it; the attempt itself is on record.
    assert Stock.objects.get(sku="MUG-001").reserved == 0
    assert not OutboxMessage.objects.exists()
    assert not InboxEntry.objects.exists()
    assert HandlingFailure.objects.get().attempt == 1


def _reserve_then(fail):
    from warehouse.handlers import reserve_stock

    def handler(event, metadata):
        reserve_stock(event, metadata)
        fail(event, metadata)

    return handler


def test_a_record_failing_in_the_middle_of_a_batch_rolls_back_alone():
    """A batch is one transaction (messaging.handling): the failure undoes its optimistic
    try, and handled again with a savepoint per record, the neighbours' effects commit,
    the failing record's do not, and it is parked for its key."""

    from messaging import handling, parking
    from messaging.models import ParkedRecord

    failing = uuid.uuid4()

    def explode_for_one(event, metadata):
        if event.order_id == failing:
            raise RuntimeError("disk on fire")

    group = registry.ConsumerGroup("test-batch")
    registry._add(group, OrderPlaced, [_reserve_then(explode_for_one)])
    product("MUG-001", stock=10)
    records = [
        dataclasses.replace(record_of(order_placed(("MUG-001", 1), order_id=order)), offset=i)
        for i, order in enumerate([uuid.uuid4(), failing, uuid.uuid4()])
    ]

    outcomes = handling.handle_batch(group, records)

    assert outcomes == [Outcome.HANDLED, parking.PARKED, Outcome.HANDLED]
    assert Stock.objects.get(sku="MUG-001").reserved == 2  # the two neighbours', not its own
    reserved_for = set(Reservation.objects.values_list("order_id", flat=True))
    assert failing not in reserved_for and len(reserved_for) == 2
    assert OutboxMessage.objects.filter(type="warehouse.StockReserved").count() == 2
    assert InboxEntry.objects.filter(group="test-batch").count() == 2
    assert ParkedRecord.objects.get(group="test-batch").key == str(failing)


def test_a_batch_that_fails_outside_its_records_keeps_nothing(monkeypatch):
    """Something failing between records (the database gone) leaves the batch uncommitted:
    the consumer then reads it again from the last committed offset."""
    from messaging import handling

    group = registry.group("warehouse")
    product("MUG-001", stock=10)
    records = [
        dataclasses.replace(record_of(order_placed(("MUG-001", 1))), offset=i) for i in range(3)
    ]
    handle = handling.handle

    def handle_two_then_lose_the_database(group, record, parked, **options):
        if record.offset == 2:
            raise ConnectionError("database gone")
        return handle(group, record, parked, **options)

    monkeypatch.setattr(handling, "handle", handle_two_then_lose_the_database)

    with pytest.raises(ConnectionError):
        handling.handle_batch(group, records)

    assert Stock.objects.get(sku="MUG-001").reserved == 0
    assert not InboxEntry.objects.exists()
    assert not OutboxMessage.objects.exists()


def _orders(n: int) -> list:
    return [
        dataclasses.replace(record_of(order_placed(("MUG-001", 1))), offset=i) for i in range(n)
    ]


def test_a_batch_that_succeeds_takes_no_savepoint_per_record_and_one_inbox_insert():
    """The first try of a batch is optimistic: its records share the batch's transaction
    without a savepoint each, and their inbox rows go in one INSERT at the end."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from messaging import handling

    product("MUG-001", stock=10)

    with CaptureQueriesContext(connection) as queries:
        outcomes = handling.handle_batch(registry.group("warehouse"), _orders(3))

    sql = [q["sql"] for q in queries.captured_queries]
    assert outcomes == [Outcome.HANDLED] * 3
    # The batch's own transaction is a savepoint here, inside the test's.
    assert len([s for s in sql if s.startswith("SAVEPOINT")]) == 1
    assert len([s for s in sql if s.startswith('INSERT INTO "messaging_inboxentry"')]) == 1
    assert InboxEntry.objects.filter(group="warehouse").count() == 3
    assert Stock.objects.get(sku="MUG-001").reserved == 3


def test_a_batchs_outbox_rows_go_in_one_insert_in_the_order_they_were_sent():
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from messaging import handling

    product("MUG-001", stock=10)
    records = _orders(3)

    with CaptureQueriesContext(connection) as queries:
        handling.handle_batch(registry.group("warehouse"), records)

    inserts = [q for q in queries.captured_queries if 'INTO "messaging_outboxmessage"' in q["sql"]]
    assert len(inserts) == 1
    reserved = OutboxMessage.objects.filter(type="warehouse.StockReserved").order_by("id")
    assert [row.key for row in reserved] == [r.key.decode() for r in records]


def test_a_batch_asks_for_its_parked_keys_its_inbox_rows_and_its_fences_in_one_query():
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from messaging import handling, parking
    from messaging.models import ParkedRecord

    handled, waiting, parked = _orders(3)
    handling.handle_batch(registry.group("sales"), [handled])
    ParkedRecord.objects.create(
        group="sales",
        key=parked.key.decode(),
        topic=parked.topic,
        partition=0,
        offset=99,
        last_error="an earlier record of this order failed",
    )

    with CaptureQueriesContext(connection) as queries:
        outcomes = handling.handle_batch(registry.group("sales"), [handled, waiting, parked])

    assert outcomes == [Outcome.DUPLICATE, Outcome.HANDLED, parking.PARKED]
    asked = [
        q["sql"]
        for q in queries.captured_queries
        if q["sql"].startswith("SELECT")
        and any(t in q["sql"] for t in ("inboxentry", "advisory_xact_lock_shared"))
    ]
    assert len(asked) == 1, asked
    assert all(t in asked[0] for t in ("parkedrecord", "inboxentry", "advisory_xact_lock_shared"))


def test_a_record_that_comes_twice_in_an_optimistic_batch_counts_a_duplicate():
    from messaging import handling

    product("MUG-001", stock=10)
    [record] = _orders(1)

    outcomes = handling.handle_batch(registry.group("warehouse"), [record, record])

    assert outcomes == [Outcome.HANDLED, Outcome.DUPLICATE]
    assert InboxEntry.objects.get(group="warehouse").duplicates == 1
    assert Stock.objects.get(sku="MUG-001").reserved == 1


def _swallow_in_atomic():
    """What Django sees: an atomic block without a savepoint marks the transaction."""
    from django.db import DataError, connection, transaction

    try:
        with transaction.atomic(savepoint=False), connection.cursor() as cursor:
            cursor.execute("SELECT 1 / 0")
    except DataError:
        pass


def _swallow_from_a_cursor():
    """What only PostgreSQL knows: a cursor's statement failed, nothing marked it."""
    from django.db import DataError, connection

    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1 / 0")
    except DataError:
        pass


@pytest.mark.parametrize("swallow", [_swallow_in_atomic, _swallow_from_a_cursor])
def test_a_handler_that_swallows_a_database_error_fails_its_record_instead_of_losing_it(swallow):
    """A handler that catches a database error and goes on leaves a transaction that can
    only roll back. In an optimistic batch nothing after it may touch the database (its
    inbox row waits for the batch's INSERT): the batch would fail whole at that INSERT, at
    every poll, or, with no row to write, Django would roll it back silently. It fails as
    its record's own failure instead, and is parked like any other."""
    from messaging import handling, parking
    from messaging.models import ParkedRecord

    group = registry.ConsumerGroup("test-swallowing")
    registry._add(group, OrderPlaced, [lambda event, metadata: swallow()])
    product("MUG-001", stock=10)
    failing = record_of(order_placed(("MUG-001", 1)))

    assert handling.handle_batch(group, [failing]) == [parking.PARKED]

    assert not InboxEntry.objects.filter(group="test-swallowing").exists()
    assert ParkedRecord.objects.get(group="test-swallowing").key == parking.key_of(failing)
    failure = HandlingFailure.objects.get(group="test-swallowing")
    assert "went on after a database error" in failure.error
