"""The operations page: outbox backlog, consumer lag (or why it is unknown), bad records."""

import re
import time
import uuid
from datetime import timedelta

import pytest
from django.db.models import F
from django.urls import reverse
from django.utils import timezone
from kafka.errors import KafkaTimeoutError

from messagelog import lag, operations
from messaging.heartbeats import Heart
from messaging.models import Heartbeat, OutboxMessage
from messaging.topics import create_topics
from tests.messagelog.records import dead_lettered, failed, logged, staff

pytestmark = pytest.mark.django_db

OPERATIONS = reverse("admin:messagelog_operationspage_changelist")


@pytest.fixture
def operator(client):
    client.force_login(staff())
    return client


def outbox_row(minutes_ago: int, published: bool = False) -> OutboxMessage:
    written = timezone.now() - timedelta(minutes=minutes_ago)
    return OutboxMessage.objects.create(
        message_id=uuid.uuid4(),
        topic="orders",
        key="k",
        type="shop.OrderConfirmed",
        source="shop",
        kind="event",
        correlation_id=uuid.uuid4(),
        time=written,
        payload={"order_id": "k"},
        published_at=written if published else None,
    )


def test_the_backlog_is_the_unpublished_rows_and_the_age_of_the_oldest():
    outbox_row(9, published=True)
    outbox_row(5)
    outbox_row(1)

    backlog = operations.outbox_backlog()

    assert backlog.pending == 2
    assert timedelta(minutes=5) <= backlog.age < timedelta(minutes=6)


def test_a_broker_that_is_down_is_reported_not_raised(monkeypatch, settings):
    settings.MESSAGING = {"BOOTSTRAP_SERVERS": "127.0.0.1:1"}

    def no_broker(**kwargs):
        raise KafkaTimeoutError("Unable to bootstrap")

    monkeypatch.setattr(lag, "consumer_lag", no_broker)

    report = operations.lag_report()

    assert report.partitions == [] and report.by_group == {}
    assert report.error == "Kafka at 127.0.0.1:1: KafkaTimeoutError: Unable to bootstrap."


def test_a_broker_that_does_not_answer_in_time_is_reported(monkeypatch):
    monkeypatch.setattr(lag, "consumer_lag", lambda **kwargs: time.sleep(1))

    report = operations.lag_report(deadline=0.1)

    assert report.error.endswith("no answer within 0 s.")


def test_lag_is_shown_per_group_topic_and_partition_and_never_negative(monkeypatch):
    rows = [
        lag.PartitionLag("shop", "shop.commands", 0, committed=3, end=5),
        lag.PartitionLag("shop", "shop.commands", 1, committed=None, end=4),
        lag.PartitionLag("audit", "orders", 0, committed=12, end=11),
    ]
    monkeypatch.setattr(lag, "consumer_lag", lambda **kwargs: rows)

    report = operations.lag_report()

    assert [(r.group, r.topic, [c.behind for c in r.cells]) for r in report.rows] == [
        ("shop", "shop.commands", [2, 4]),
        ("audit", "orders", [0]),
    ]
    assert report.by_group == {"shop": 6, "audit": 0}
    assert report.partition_numbers == [0, 1]


def test_bad_records_are_counted_by_group_and_reason():
    dispatch = logged("warehouse.DispatchOrder", correlation_id=uuid.uuid4())
    dead_lettered(dispatch, "warehouse")
    failed(dispatch, "warehouse", 1)
    failed(dispatch, "warehouse", 2)

    bad = operations.bad_records()

    assert [(r["group"], r["reason"], r["records"]) for r in bad.by_group_and_reason] == [
        ("warehouse", "handler_failed", 1)
    ]
    assert bad.latest[0].message_id == dispatch.message_id
    assert bad.failures_by_group == [{"group": "warehouse", "attempts": 2, "messages": 1}]


def test_the_page_says_when_kafka_cannot_be_asked(operator, monkeypatch):
    def no_broker(**kwargs):
        raise KafkaTimeoutError("Unable to bootstrap")

    monkeypatch.setattr(lag, "consumer_lag", no_broker)
    outbox_row(3)

    response = operator.get(OPERATIONS)

    page = response.content.decode()
    assert response.status_code == 200
    assert "Consumer lag is unknown right now" in page and "KafkaTimeoutError" in page
    assert "1 message waiting for the relay" in page


def test_the_page_shows_the_lag_of_every_registered_group_from_the_real_broker(operator):
    create_topics()

    response = operator.get(OPERATIONS)

    page = response.content.decode()
    assert response.status_code == 200 and "Consumer lag is unknown" not in page
    for group in ("audit", "shop", "warehouse", "notifications", "sales"):
        assert f"<strong>{group}</strong>" in page


def test_each_partitions_end_is_read_once_for_every_group_that_follows_it(monkeypatch):
    """Finding an end costs a fetch per partition; five groups follow `orders`."""
    create_topics()
    asked = []

    def end_offsets(client, partitions, **kwargs):
        asked.extend(partitions)
        return real_end_offsets(client, partitions, **kwargs)

    real_end_offsets = lag.end_offsets
    monkeypatch.setattr(lag, "end_offsets", end_offsets)

    rows = lag.consumer_lag()

    assert len(asked) == len(set(asked)) == len({(r.topic, r.partition) for r in rows})
    assert len({r.group for r in rows if r.topic == "orders"}) >= 5


def test_the_page_lists_every_process_and_marks_the_silent_one_stale_in_red(operator):
    heart = Heart()
    heart.pulse(Heartbeat.Kind.RELAY, "relay").report("standby", published=0)
    heart.pulse(Heartbeat.Kind.CONSUMER, "sales").report(
        "consuming", partitions=["orders[0]", "orders[1]"], lag=2
    )
    heart.pulse(Heartbeat.Kind.WORKER, "sales@vm", by_heart=True)
    heart.beat()
    Heartbeat.objects.filter(kind=Heartbeat.Kind.WORKER).update(
        beat_at=F("beat_at") - timedelta(seconds=16)  # three 5 s intervals and a second
    )

    page = operator.get(OPERATIONS).content.decode()

    rows = re.findall(r'<tr class="mlog-(alive|stale)">(.*?)</tr>', page, re.S)
    assert [(status, re.findall(r"<strong>(.*?)</strong>", row)) for status, row in rows] == [
        ("alive", ["relay"]),
        ("alive", ["sales"]),
        ("stale", ["sales@vm"]),
    ]
    assert "orders 0–1; 2 behind" in rows[1][1]
    assert "silent for 16" in rows[2][1] and "replaced by" not in rows[2][1]
    assert "tr.mlog-stale td { background: #fef2f2; color: #b91c1c; }" in page
    assert "Not ready: no relay is leading" in page


def test_a_stale_process_names_the_live_one_that_replaced_it():
    dead, replacement = Heart(), Heart()
    replacement.pid = dead.pid + 1
    for heart in (dead, replacement):
        heart.pulse(Heartbeat.Kind.WORKER, "sales@vm", by_heart=True)
        heart.beat()
    Heartbeat.objects.filter(pid=dead.pid).update(beat_at=F("beat_at") - timedelta(seconds=60))

    [alive, stale] = operations.process_report().rows

    assert (alive.process.pid, alive.replaced_by) == (replacement.pid, None)
    assert (stale.process.pid, stale.replaced_by) == (dead.pid, replacement.pid)


def test_partitions_are_listed_per_topic_in_runs():
    partitions = ["orders[0]", "orders[1]", "orders[2]", "orders[3]", "shop.commands[1]"]
    partitions += ["warehouse.events[0]", "warehouse.events[2]", "warehouse.events[3]"]

    assert operations.partition_ranges(partitions) == (
        "orders 0–3, shop.commands 1, warehouse.events 0, 2–3"
    )
