"""Consumer lag as Prometheus gauges, read from the broker when scraped (messagelog.lag)."""

import logging

from kafka.errors import KafkaError
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from .lag import consumer_lag

logger = logging.getLogger(__name__)


class LagCollector(Collector):
    """`shop_consumer_lag_records{group,topic,partition}`; nothing when the broker is away
    (the scrape still answers, and `absent()` tells an alert so)."""

    def __init__(self, *, timeout_ms: int = 2000) -> None:
        self.timeout_ms = timeout_ms

    def collect(self):
        lag = GaugeMetricFamily(
            "shop_consumer_lag_records",
            "Records a consumer group has still to read on a partition (end offset minus "
            "its committed offset).",
            labels=["group", "topic", "partition"],
        )
        try:
            rows = consumer_lag(timeout_ms=self.timeout_ms)
        except KafkaError as exc:
            logger.warning("metrics: no consumer lag, the broker did not answer: %s", exc)
            return
        for row in rows:
            lag.add_metric([row.group, row.topic, str(row.partition)], row.lag)
        yield lag
