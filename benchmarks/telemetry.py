"""Scenario 8: what traces and metrics cost the pipeline, on against off in one run.

"Off" is the shop as configured by default (no OTLP endpoint, no metrics port). "On" is
the shop as the compose observability profile runs it: every process exports its spans
with the real OTLP/HTTP exporter (batching, from a background thread) to a collector, here
one in a process of its own (benchmarks.collector) that answers every export and keeps
nothing, without a span per SQL query (`OTEL_PYTHON_DISABLED_INSTRUMENTATIONS=psycopg`, as
compose sets it), and the relay and each worker serve their counters on a port of their
own, scraped every 5 s as Prometheus does.
The same orders go through each, with the same window, right after one another.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from devstack.processes import free_ports

from . import collector as collector_process
from .stack import HOST, Stack

# "On" as docker-compose.yml configures the shop's processes, beside the run's endpoint.
ON = {"OTEL_PYTHON_DISABLED_INSTRUMENTATIONS": "psycopg"}


@dataclass
class Collector:
    """The collector's process (benchmarks.collector): its OTLP/HTTP endpoint, and the
    queue that hands it the metrics ports to scrape."""

    endpoint: str
    ports: Any

    def scrape(self, port: int) -> None:
        self.ports.put(port)


@contextlib.contextmanager
def collector() -> Iterator[Collector]:
    """A collector for the run's processes, in a process of its own."""
    context = multiprocessing.get_context("spawn")
    endpoints, ports, stop = context.Queue(), context.Queue(), context.Event()
    process = context.Process(
        target=collector_process.serve, args=(endpoints, ports, stop), daemon=True
    )
    process.start()
    try:
        yield Collector(endpoints.get(timeout=30), ports)
    finally:
        stop.set()
        process.join(timeout=collector_process.SCRAPE_SECONDS + 5)


@contextlib.contextmanager
def telemetry_on(stack: Stack, collector: Collector) -> Iterator[None]:
    """Processes started inside export traces to the collector and serve metrics (each on
    a port of its own, which the collector scrapes)."""
    saved = {k: os.environ.get(k) for k in (*ON, "OTEL_EXPORTER_OTLP_ENDPOINT", "METRICS_PORT")}
    os.environ.update(ON | {"OTEL_EXPORTER_OTLP_ENDPOINT": collector.endpoint})
    start = stack.start

    def start_with_a_metrics_port(name: str, command: str):
        [port] = free_ports(1, HOST)
        os.environ["METRICS_PORT"] = str(port)
        collector.scrape(port)
        try:
            return start(name, command)
        finally:
            os.environ.pop("METRICS_PORT", None)

    stack.start = start_with_a_metrics_port
    try:
        yield
    finally:
        del stack.start  # the method again
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
