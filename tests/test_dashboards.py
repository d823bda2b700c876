"""The Grafana dashboard and the Prometheus alerting rules name only metrics that exist.

What exists is read from the shop itself: the web's /metrics scraped (the gauges read from
the database and the broker, each present once there is a row or a partition to report)
and the families the worker's and relay's counters and histograms declare. A panel that
queries a renamed metric would otherwise draw nothing, silently, and an alert never fire.
"""

import json
import re
from pathlib import Path

import pytest
import yaml
from django.utils import timezone
from prometheus_client.parser import text_string_to_metric_families

from messaging import metrics
from messaging.models import Heartbeat, OutboxMessage, ParkedRecord
from messaging.topics import create_topics

ROOT = Path(__file__).resolve().parent.parent
DASHBOARD = ROOT / "deploy" / "grafana" / "dashboards" / "shop.json"
ALERTS = ROOT / "deploy" / "prometheus" / "alerts.yml"
# Prometheus's own series about each scrape.
BUILT_IN = {"up"}
# A metric name in PromQL: the shop's own prefix, or a built-in, before `{`, `[`, `)` or space.
NAME = re.compile(r"\b(shop_[a-z_]+|up)\b")
SUFFIXES = {"counter": ["_total"], "histogram": ["_bucket", "_count", "_sum"]}


def declared() -> set[str]:
    """Sample names of the counters and histograms the processes declare."""
    names = set()
    for metric in (
        metrics.RECORDS,
        metrics.HANDLER_DURATION,
        metrics.OUTBOX_WRITTEN,
        metrics.RELAY_PUBLISHED,
        metrics.RELAY_LATENCY,
    ):
        for family in metric.describe():
            names |= {family.name + suffix for suffix in SUFFIXES[family.type]}
    return names


@pytest.fixture
def scraped(client, db) -> dict[str, set[str]]:
    """Every sample the web's /metrics serves, by name, with its label names."""
    create_topics(partitions=1)
    now = timezone.now()
    Heartbeat.objects.create(
        host="h", pid=1, kind="relay", name="relay", started_at=now, beat_at=now
    )
    ParkedRecord.objects.create(group="shop", key="k", topic="orders", partition=0, offset=0)
    assert OutboxMessage.objects.count() == 0  # the gauges answer 0 for an empty outbox
    response = client.get("/metrics", REMOTE_ADDR="127.0.0.1")
    assert response.status_code == 200
    samples = {}
    for family in text_string_to_metric_families(response.content.decode()):
        for sample in family.samples:
            samples.setdefault(sample.name, set()).update(sample.labels)
    return samples


def queries() -> list[tuple[str, str]]:
    board = json.loads(DASHBOARD.read_text())
    found = [
        (panel["title"], target["expr"]) for panel in board["panels"] for target in panel["targets"]
    ]
    rules = yaml.safe_load(ALERTS.read_text())
    found += [(rule["alert"], rule["expr"]) for group in rules["groups"] for rule in group["rules"]]
    return found


def test_the_dashboard_has_the_panels_operators_look_for():
    board = json.loads(DASHBOARD.read_text())
    assert board["uid"] and all(p["datasource"]["uid"] == "prometheus" for p in board["panels"])
    text = json.dumps(board)
    for needle in (
        'outcome=\\"handled\\"',  # throughput per group
        "shop_consumer_lag_records",
        "shop_outbox_pending_messages",
        "shop_outbox_oldest_pending_age_seconds",
        "dead_lettered",
        "histogram_quantile(0.95",
        "shop_handler_duration_seconds_bucket",
    ):
        assert needle in text


def test_the_alerts_cover_lag_the_outbox_dead_letters_and_silence():
    rules = yaml.safe_load(ALERTS.read_text())
    names = {rule["alert"] for group in rules["groups"] for rule in group["rules"]}
    assert {
        "ConsumerGroupLagging",
        "OutboxNotDraining",
        "DeadLettersAppearing",
        "ProcessSilent",
    } <= names


def test_every_query_names_metrics_and_labels_that_exist(scraped):
    exists = set(scraped) | declared() | BUILT_IN
    for where, expr in queries():
        names = set(NAME.findall(expr))
        assert names, f"{where}: names no metric: {expr}"
        assert names <= exists, f"{where}: unknown {sorted(names - exists)} in {expr}"
        # Labels matched in braces belong to the metric they follow.
        for name, matchers in re.findall(r"(shop_[a-z_]+)\{([^}]*)\}", expr):
            labels = set(re.findall(r"([a-z_]+)\s*=~?", matchers))
            known = scraped.get(name) or _declared_labels(name)
            assert labels <= known, f"{where}: {name} has no label {sorted(labels - known)}"


def _declared_labels(name: str) -> set[str]:
    for metric in (
        metrics.RECORDS,
        metrics.HANDLER_DURATION,
        metrics.OUTBOX_WRITTEN,
        metrics.RELAY_PUBLISHED,
        metrics.RELAY_LATENCY,
    ):
        if name.startswith(metric._name):
            return set(metric._labelnames) | {"le"}
    return set()
