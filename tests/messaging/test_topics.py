"""Topics and their retention (messaging.topics), and the check that an existing topic a
command can come back from keeps no record longer than the inbox window (messaging.W001),
against the session's real broker."""

import time
import uuid
from datetime import timedelta

import pytest
from kafka.admin import NewTopic

from messaging import checks, topics
from messaging.kafka import admin


def a_topic(**configs: str) -> str:
    """A topic of the test's own, created with these configs."""
    name = f"retention-test-{uuid.uuid4().hex[:8]}"
    client = admin()
    client.create_topics([NewTopic(name, 1, 1, topic_configs=configs or None)])
    client.close()
    return name


def test_command_and_dead_letter_topics_keep_records_well_within_the_inbox_window(settings):
    settings.MESSAGING = {**settings.MESSAGING, "RETAIN_INBOX": "8d"}

    assert "shop.commands" in topics.within_inbox_window()
    assert "warehouse.dead-letters" in topics.within_inbox_window()
    assert "orders" not in topics.within_inbox_window()
    for topic in topics.within_inbox_window():
        configs = topics.topic_configs(topic)
        assert configs == {"retention.ms": str(4 * 86_400_000), "segment.ms": str(2 * 86_400_000)}
        kept = topics.longest_kept({k: int(v) for k, v in configs.items()})
        # The last quarter is left for Kafka's retention check (every 5 minutes by default).
        assert kept == timedelta(days=6)


def test_event_topics_keep_every_record_unless_told_otherwise(settings):
    assert topics.topic_configs("orders") == {"retention.ms": "-1"}

    settings.MESSAGING = {**settings.MESSAGING, "EVENT_TOPIC_RETENTION": "365d"}

    assert topics.topic_configs("orders") == {"retention.ms": str(365 * 86_400_000)}


def test_create_topics_gives_existing_topics_their_retention_when_asked(settings):
    topics.create_topics(partitions=2)
    topics.create_topics(alter=True)

    reported = topics.retention_of(["shop.commands", "orders"])

    assert reported["shop.commands"] == {"retention.ms": 302_400_000, "segment.ms": 151_200_000}
    assert reported["orders"]["retention.ms"] == -1


def test_a_command_topic_kept_longer_than_the_inbox_window_is_warned_of(monkeypatch):
    short = a_topic(**topics.topic_configs("shop.commands"))
    default = a_topic()  # the broker's default: it says nothing, or 7 days plus a segment
    forever = a_topic(**{"retention.ms": "-1"})
    longer = a_topic(**{"retention.ms": str(6 * 86_400_000), "segment.ms": str(2 * 86_400_000)})
    monkeypatch.setattr(topics, "within_inbox_window", lambda: [short, default, forever, longer])

    warnings = checks.check_command_topics_within_inbox_window()

    assert {w.obj for w in warnings} == {default, forever, longer}
    assert {w.id for w in warnings} == {"messaging.W001"}
    by_topic = {w.obj: w.msg for w in warnings}
    assert "for ever" in by_topic[forever]
    assert "up to 8d (retention.ms plus segment.ms)" in by_topic[longer]
    assert "RETAIN_INBOX, 7d" in by_topic[longer]
    assert "create_topics --alter" in warnings[0].hint


def test_the_topic_check_skips_an_unreachable_broker_quickly(settings):
    settings.MESSAGING = {**settings.MESSAGING, "BOOTSTRAP_SERVERS": "127.0.0.1:1"}
    started = time.monotonic()

    assert checks.check_command_topics_within_inbox_window() == []
    assert time.monotonic() - started < 5


@pytest.mark.parametrize(
    ("changes", "complaint"),
    [
        ({"RETAIN_OUTBOX": "8d", "RETAIN_INBOX": "7d"}, "longer than RETAIN_INBOX"),
        ({"RETAIN_MESSAGE_LOG": "0s"}, "RETAIN_MESSAGE_LOG"),
        ({"EVENT_TOPIC_RETENTION": "a year"}, "EVENT_TOPIC_RETENTION"),
    ],
)
def test_retention_settings_that_break_a_promise_are_errors(settings, changes, complaint):
    settings.MESSAGING = {**settings.MESSAGING, **changes}

    [error] = checks.check_retention_settings()

    assert error.id == "messaging.E010" and complaint in error.msg
