"""Heartbeats: one UPSERT per process and interval, stale after three silent intervals,
and a running relay and consumer group member beating against the real servers."""

import threading
import time
import uuid
from datetime import timedelta

import pytest
from django.db import connection
from django.db.models import F
from django.test.utils import CaptureQueriesContext

from messaging import heartbeats, liveness
from messaging.consumer import ConsumerLoop
from messaging.heartbeats import Heart
from messaging.kafka import reader
from messaging.models import Heartbeat
from messaging.registry import ConsumerGroup, groups
from messaging.relay import Relay
from messaging.topics import create_topics

RELAY, CONSUMER = Heartbeat.Kind.RELAY, Heartbeat.Kind.CONSUMER


def silence(seconds: float, **which) -> None:
    """Make parts look as if they had last beaten `seconds` earlier than they did."""
    Heartbeat.objects.filter(**which).update(beat_at=F("beat_at") - timedelta(seconds=seconds))


def wait_for(condition, *, what: str, timeout: float = 30.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if result := condition():
            return result
        time.sleep(0.1)
    raise AssertionError(f"Timed out after {timeout:.0f}s waiting for {what}")


@pytest.mark.django_db
def test_every_part_that_reported_is_written_in_one_statement():
    heart = Heart(interval=5)
    worker = heart.pulse(Heartbeat.Kind.WORKER, "w@host", by_heart=True)
    sales, shop = heart.pulse(CONSUMER, "sales"), heart.pulse(CONSUMER, "shop")
    sales.report("consuming", partitions=["orders[0]"], lag=3)
    shop.report("joining")

    with CaptureQueriesContext(connection) as queries:
        written = heart.beat()

    assert written == 3 and len(queries) == 1
    assert "ON CONFLICT" in queries[0]["sql"]
    rows = {row.name: row for row in Heartbeat.objects.all()}
    assert rows["sales"].details == {"partitions": ["orders[0]"], "lag": 3}
    assert rows["w@host"].role == "running" and rows["shop"].role == "joining"
    assert worker.kind == "worker"

    sales.report("consuming")  # shop's loop says nothing: its row is not refreshed
    silence(4)
    assert heart.beat() == 2
    ages = {p.name: p.silent for p in liveness.processes()}
    assert ages["shop"] >= timedelta(seconds=4) > ages["sales"]
    assert Heartbeat.objects.count() == 3  # upserted: still one row per part


@pytest.mark.django_db
def test_a_part_silent_for_more_than_three_intervals_is_stale(settings):
    settings.MESSAGING = {**settings.MESSAGING, "HEARTBEAT_INTERVAL": 2.0}
    heart = Heart()
    heart.pulse(CONSUMER, "sales").report("consuming")
    heart.pulse(CONSUMER, "shop").report("consuming")
    heart.beat()

    silence(6.5, name="shop")

    stale = {p.name: p.stale for p in liveness.processes()}
    assert stale == {"sales": False, "shop": True}
    assert set(liveness.fresh().values_list("name", flat=True)) == {"sales"}


@pytest.mark.django_db
def test_readiness_needs_a_leading_relay_and_a_live_member_of_every_group():
    heart = Heart()
    heart.pulse(RELAY, "relay").report("standby")
    for name in sorted(groups())[1:]:
        heart.pulse(CONSUMER, name).report("consuming")
    heart.beat()

    missing_group = sorted(groups())[0]
    assert liveness.problems() == [
        "no relay is leading (none has beaten as leader lately)",
        f"no live member of the consumer group(s) {missing_group}",
    ]

    heart.pulse(RELAY, "relay-2").report("leader")
    heart.pulse(CONSUMER, missing_group).report("joining")
    heart.beat()
    assert liveness.problems() == []

    silence(3 * 5 + 1, name="relay-2")
    assert liveness.problems() == ["no relay is leading (none has beaten as leader lately)"]


@pytest.mark.django_db
def test_processes_gone_long_ago_are_forgotten():
    heart = Heart()
    heart.pulse(CONSUMER, "sales").report("consuming")
    heart.pulse(CONSUMER, "shop").report("consuming")
    heart.beat()
    silence(86400 + 60, name="shop")

    assert heartbeats.forget_silent() == 1
    assert list(Heartbeat.objects.values_list("name", flat=True)) == ["sales"]


@pytest.mark.django_db(transaction=True)
def test_a_running_relay_beats_as_leader_a_second_as_standby_and_both_delete_on_stop():
    create_topics(partitions=2)
    stop = threading.Event()
    hearts = [Heart(interval=0.5).start(), Heart(interval=0.5).start()]
    relays = [Relay(stop, pulse=heart.pulse(RELAY, f"relay-{n}")) for n, heart in enumerate(hearts)]
    threads = [threading.Thread(target=relay.run) for relay in relays]
    mine = liveness.fresh().filter(name__in=["relay-0", "relay-1"])
    threads[0].start()
    wait_for(lambda: mine.filter(name="relay-0").exists(), what="the first relay to beat")
    threads[1].start()

    try:
        roles = wait_for(
            lambda: dict(mine.values_list("name", "role")) if mine.count() == 2 else None,
            what="the second relay to beat",
        )
        # The end-to-end tests' relay may be leading already: then both of these stand by
        # (its heartbeat may take an interval to come back after a test's flush).
        leaders = liveness.fresh().filter(kind=RELAY, role="leader")
        wait_for(leaders.exists, what="the leading relay's heartbeat")
        assert leaders.count() == 1
        if leaders.filter(name="relay-0").exists():
            assert roles == {"relay-0": "leader", "relay-1": "standby"}
            assert leaders.get().details == {"published": 0}
        else:
            assert roles == {"relay-0": "standby", "relay-1": "standby"}
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=15)
        for heart in hearts:
            heart.stop()
    assert not Heartbeat.objects.filter(name__in=["relay-0", "relay-1"]).exists()


@pytest.mark.django_db(transaction=True)
def test_a_consumer_group_member_beats_with_its_partitions_and_lag():
    create_topics(partitions=2)
    group = ConsumerGroup(
        name=f"heartbeat-test-{uuid.uuid4().hex[:8]}",
        topics={"orders"},
        process_records=lambda records: None,
    )
    stop = threading.Event()
    heart = Heart(interval=0.5).start()
    loop = ConsumerLoop(group, stop, heart.pulse(CONSUMER, group.name))
    thread = threading.Thread(target=loop.run)
    thread.start()
    try:
        member = wait_for(
            lambda: (
                liveness.fresh().filter(name=group.name, role="consuming", details__lag=0).first()
            ),
            what="the member to get its partitions and read them to their ends",
        )
        client = reader()
        partitions = sorted(client.partitions_for_topic("orders"))
        client.close()
        assert member.details["partitions"] == [f"orders[{p}]" for p in partitions]
        assert (member.host, member.pid) == (heart.host, heart.pid)
    finally:
        stop.set()
        thread.join(timeout=15)
        heart.stop()
