"""Replay's rules and the rebuild fence, against a real PostgreSQL (no broker needed)."""

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.utils import timezone

from messaging import handling, parking, registry, replay, retrying
from messaging.inbox import Outcome, Seen
from messaging.models import ParkedRecord
from messaging.registry import FENCE_KEY
from sales.models import SaleRecord
from tests.factories import database_session, order_placed, record_of

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("option", "value"),
    [
        ("since", datetime(2026, 11, 24, tzinfo=UTC)),
        ("from_offset", 10),
        ("correlation_id", uuid.uuid4()),
        ("topics", ["orders"]),
    ],
)
def test_a_rebuild_from_a_slice_of_the_history_is_refused(option, value):
    with pytest.raises(replay.ReplayRefused, match="replays the whole history"):
        replay.plan(projection="sales", rebuild=True, **{option: value})


def test_each_kind_of_replay_keeps_checkpoints_of_its_own():
    """An interrupted plain replay must not make a later rebuild 'resume' (and skip clearing)."""
    names = {
        replay.plan(group_name="sales").name,
        replay.plan(projection="sales").name,
        replay.plan(projection="sales", rebuild=True).name,
        replay.plan(group_name="sales", correlation_id=uuid.uuid4()).name,
        replay.plan(group_name="sales", since=datetime(2026, 11, 24, tzinfo=UTC)).name,
    }

    assert len(names) == 5


def consume(group, *records):
    parked = Seen(group.name, keys={parking.key_of(r) for r in records}).parked
    return [handling.handle(group, r, parked) for r in records]


def test_while_a_rebuild_holds_the_fence_the_live_group_parks_its_events_in_order(
    django_capture_on_commit_callbacks,
):
    sales = registry.group("sales")
    placed = order_placed(("MUG-001", 1))
    fence = registry.projections()["sales"].fence
    with database_session() as rebuild:  # the replay's own session, elsewhere
        rebuild.execute(f"SELECT pg_advisory_lock({FENCE_KEY})", [fence])
        outcomes = consume(sales, record_of(placed, offset=0))
        rebuild.execute(f"SELECT pg_advisory_unlock({FENCE_KEY})", [fence])

    assert outcomes == [parking.PARKED] and not SaleRecord.objects.exists()
    head = ParkedRecord.objects.get()
    assert head.waiting and "waits for the rebuild of sales" in head.last_error

    with django_capture_on_commit_callbacks() as woken:
        assert retrying.wake_waiting("sales") == 1
    retrying.retry("sales", str(placed.order_id))  # what the woken task does

    assert len(woken) == 1
    assert SaleRecord.objects.filter(order_id=placed.order_id).exists()


def test_a_wait_for_a_rebuild_never_turns_into_a_dead_letter(settings):
    settings.MESSAGING = {**settings.MESSAGING, "PREREQUISITE_WAIT_SECONDS": 0}
    sales = registry.group("sales")
    placed = order_placed(("MUG-001", 1))
    fence = registry.projections()["sales"].fence
    with database_session() as rebuild:
        rebuild.execute(f"SELECT pg_advisory_lock({FENCE_KEY})", [fence])
        consume(sales, record_of(placed, offset=0))
        ParkedRecord.objects.update(next_attempt_at=timezone.now())  # its backoff is over
        retrying.retry("sales", str(placed.order_id))

    head = ParkedRecord.objects.get()
    assert head.dead_letter is None and head.attempts == 2


def test_the_rebuild_itself_handles_through_its_own_fence():
    sales = registry.group("sales")
    placed = order_placed(("MUG-001", 1))
    fence = registry.projections()["sales"].fence
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT pg_advisory_lock({FENCE_KEY})", [fence])
    try:
        assert consume(sales, record_of(placed, offset=0)) == [Outcome.HANDLED]
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT pg_advisory_unlock({FENCE_KEY})", [fence])


def test_a_command_replay_from_the_beginning_is_refused_with_the_inbox_window():
    with pytest.raises(replay.ReplayRefused) as refused:
        replay.plan(group_name="shop", allow_commands=True)

    message = str(refused.value)
    assert "shop.commands from the beginning could carry out again" in message
    assert "RETAIN_INBOX (7d)" in message and "Pass --since" in message


def test_a_command_replay_may_start_only_within_the_inbox_window(settings):
    settings.MESSAGING = {**settings.MESSAGING, "RETAIN_INBOX": "1h"}
    now = timezone.now()

    with pytest.raises(replay.ReplayRefused, match="from offset 0"):
        replay.plan(group_name="shop", allow_commands=True, from_offset=0)
    with pytest.raises(replay.ReplayRefused, match=r"RETAIN_INBOX \(1h\)") as refused:
        replay.plan(group_name="shop", allow_commands=True, since=now - timedelta(minutes=61))
    allowed = replay.plan(group_name="shop", allow_commands=True, since=now - timedelta(minutes=59))

    assert "shop.commands" in allowed.topics
    # The time the refusal suggests is itself accepted.
    suggested = datetime.fromisoformat(str(refused.value).rsplit("--since ", 1)[1].split()[0])
    replay.plan(group_name="shop", allow_commands=True, since=suggested)


def test_event_topics_replay_from_the_beginning_whatever_the_inbox_window(settings):
    settings.MESSAGING = {**settings.MESSAGING, "RETAIN_INBOX": "1h"}

    assert replay.plan(group_name="shop", topics=["warehouse.events"]).topics == [
        "warehouse.events"
    ]


def test_a_batch_meeting_a_rebuilds_fence_parks_that_event_alone_and_is_not_handled_again():
    """The fence is tried before any handler runs, so an optimistic batch has nothing of
    that record to undo: it is parked as waiting, and the batch's other records are handled
    once (during a rebuild most live batches meet the fence)."""
    from messaging.models import InboxEntry

    sales, calls = registry.group("sales"), []
    fence = registry.projections()["sales"].fence
    batch = [record_of(order_placed(("MUG-001", 1)), offset=i) for i in range(2)]
    handle = handling.handle

    def counted(group, record, parked, **options):
        calls.append(record.offset)
        return handle(group, record, parked, **options)

    with database_session() as rebuild, pytest.MonkeyPatch.context() as patch:
        rebuild.execute(f"SELECT pg_advisory_lock({FENCE_KEY})", [fence])
        patch.setattr(handling, "handle", counted)
        outcomes = handling.handle_batch(sales, batch)
        rebuild.execute(f"SELECT pg_advisory_unlock({FENCE_KEY})", [fence])

    assert outcomes == [parking.PARKED, parking.PARKED]
    assert calls == [0, 1]  # one try: nothing was undone
    assert {p.waiting for p in ParkedRecord.objects.all()} == {True}
    assert not InboxEntry.objects.filter(group="sales").exists()
