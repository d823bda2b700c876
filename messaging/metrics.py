"""Prometheus metrics: what the consumers and the relay count, and what any process can
read from the database when it is scraped.

Counters and histograms live in the process that does the work (a worker's consumer
threads, the relay) and are served on its own port (`serve`, METRICS_PORT). Gauges of
shared state (the outbox's backlog, parked records, heartbeats) are read from the database
at scrape time by `DatabaseCollector`, a few indexed aggregate queries, so that any one
process can report them and none keeps them in memory.

Labels are low-cardinality only: consumer group, message type, topic, outcome, process
kind and name. Never an order id or a message id.
"""

import logging
import os
from functools import partial

from django.db import transaction
from django.db.models import Count, Min
from django.utils import timezone
from prometheus_client import REGISTRY, Counter, Histogram, start_http_server
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

logger = logging.getLogger(__name__)

# One counter, one label per outcome: a dashboard sums or splits them at will.
RECORDS = Counter(
    "shop_consumer_records",
    "Records a consumer group took a decision on, by message type and outcome "
    "(handled, duplicate, dead_lettered, failed, parked).",
    ["group", "type", "outcome"],
)
HANDLER_DURATION = Histogram(
    "shop_handler_duration_seconds",
    "Time to handle one record: decoding, the handlers and their transaction.",
    ["group", "type"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
OUTBOX_WRITTEN = Counter(
    "shop_outbox_written",
    "Messages written to the outbox by this process (counted when their transaction commits).",
    ["type"],
)
RELAY_PUBLISHED = Counter(
    "shop_relay_published", "Outbox rows the relay published, acknowledged by Kafka.", ["topic"]
)
RELAY_LATENCY = Histogram(
    "shop_relay_publish_latency_seconds",
    "From the outbox row's write to Kafka's acknowledgement.",
    ["topic"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60),
)

# Outcomes not worth counting: a message the group does not follow.
UNCOUNTED = {"ignored"}


def handled(group: str, type_name: str, outcome: str, seconds: float | None = None) -> None:
    """A decision on a record, counted when its transaction commits: a batch that is undone
    and handled again (messaging.handling) counts each record once."""
    if outcome in UNCOUNTED:
        return
    transaction.on_commit(partial(_count, group, type_name or "unknown", outcome, seconds))


def _count(group: str, type_name: str, outcome: str, seconds: float | None) -> None:
    RECORDS.labels(group, type_name, outcome).inc()
    if seconds is not None:
        HANDLER_DURATION.labels(group, type_name).observe(seconds)


def recorded(group: str, headers, seconds: float) -> None:
    """A record a recording group (the audit) took, by its `ce_type` if anyone declares it."""
    from .contracts import UnknownMessageType, message_class
    from .wire import declared_type

    type_name = declared_type(headers)
    try:
        message_class(type_name)
    except UnknownMessageType:
        type_name = ""
    handled(group, type_name, "handled", seconds)


def written(type_name: str) -> None:
    transaction.on_commit(lambda: OUTBOX_WRITTEN.labels(type_name).inc())


def published(topic: str, written_at) -> None:
    RELAY_PUBLISHED.labels(topic).inc()
    RELAY_LATENCY.labels(topic).observe(max((timezone.now() - written_at).total_seconds(), 0))


class DatabaseCollector(Collector):
    """Gauges read from the database when scraped: each a small aggregate on an index."""

    def collect(self):
        from .models import Heartbeat, OutboxMessage, ParkedRecord

        now = timezone.now()
        pending = OutboxMessage.objects.pending().aggregate(n=Count("id"), oldest=Min("time"))
        yield GaugeMetricFamily(
            "shop_outbox_pending_messages", "Outbox rows waiting for the relay.", pending["n"]
        )
        oldest = pending["oldest"]
        yield GaugeMetricFamily(
            "shop_outbox_oldest_pending_age_seconds",
            "Age of the oldest outbox row waiting for the relay (0 when none waits).",
            (now - oldest).total_seconds() if oldest else 0.0,
        )
        parked = GaugeMetricFamily(
            "shop_parked_records",
            "Records parked for a retry, per consumer group.",
            labels=["group"],
        )
        for row in ParkedRecord.objects.values("group").annotate(n=Count("id")).order_by("group"):
            parked.add_metric([row["group"]], row["n"])
        yield parked
        beats = GaugeMetricFamily(
            "shop_heartbeat_age_seconds",
            "Seconds since each process part last wrote its heartbeat (the oldest of a kind "
            "and name, over every host).",
            labels=["kind", "name"],
        )
        rows = Heartbeat.objects.values("kind", "name").annotate(last=Min("beat_at"))
        for row in rows.order_by("kind", "name"):
            beats.add_metric([row["kind"], row["name"]], (now - row["last"]).total_seconds())
        yield beats


def metrics_port() -> int | None:
    value = os.environ.get("METRICS_PORT", "").strip()
    return int(value) if value else None


_served = False


def serve(registry=REGISTRY) -> int | None:
    """Serve this process's counters on METRICS_PORT, if set (once per process).

    The database's gauges are the web's to serve (config.metrics): one copy, not one per
    worker and relay.
    """
    global _served
    port = metrics_port()
    if port is None or _served:
        return None
    try:
        start_http_server(port, addr=os.environ.get("METRICS_ADDR", "0.0.0.0"), registry=registry)
    # A port taken (another demo, a stale process) costs the metrics, never the handling.
    except OSError as exc:
        logger.error("metrics: cannot listen on port %d: %s", port, exc)
        return None
    _served = True
    logger.info("metrics on :%d/metrics", port)
    return port
