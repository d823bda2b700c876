"""Scenario 8: what traces and metrics cost the pipeline, on against off in one run.

"Off" is the shop as configured by default (no OTLP endpoint, no metrics port). "On" is
the shop as the compose observability profile runs it: every process exports its spans
with the real OTLP/HTTP exporter (batching, from a background thread) to a collector, here
one in this process that answers every export and keeps nothing, without a span per SQL
query (`OTEL_PYTHON_DISABLED_INSTRUMENTATIONS=psycopg`, as compose sets it), and the relay
and each worker serve their counters on a port of their own, scraped every 5 s as
Prometheus does.
The same orders go through each, with the same window, right after one another.
"""

from __future__ import annotations

import contextlib
import os
import threading
import urllib.request
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from devstack.processes import free_ports

from .stack import HOST, Stack

SCRAPE_SECONDS = 5.0
# "On" as docker-compose.yml configures the shop's processes, beside the run's endpoint.
ON = {"OTEL_PYTHON_DISABLED_INSTRUMENTATIONS": "psycopg"}


class _Collector(BaseHTTPRequestHandler):
    """Accepts OTLP/HTTP exports: reads the body, answers 200, keeps nothing."""

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.send_response(200)
        self.send_header("Content-Type", "application/x-protobuf")
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args) -> None:
        pass


@contextlib.contextmanager
def collector() -> Iterator[str]:
    """An OTLP/HTTP endpoint for the run's processes; its URL."""
    server = ThreadingHTTPServer((HOST, 0), _Collector)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://{HOST}:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@contextlib.contextmanager
def telemetry_on(stack: Stack, endpoint: str) -> Iterator[None]:
    """Processes started inside export traces to `endpoint` and serve metrics (each on a
    port of its own, scraped while the block runs)."""
    saved = {k: os.environ.get(k) for k in (*ON, "OTEL_EXPORTER_OTLP_ENDPOINT", "METRICS_PORT")}
    os.environ.update(ON | {"OTEL_EXPORTER_OTLP_ENDPOINT": endpoint})
    ports: list[int] = []
    start = stack.start

    def start_with_a_metrics_port(name: str, command: str):
        [port] = free_ports(1, HOST)
        os.environ["METRICS_PORT"] = str(port)
        ports.append(port)
        try:
            return start(name, command)
        finally:
            os.environ.pop("METRICS_PORT", None)

    stack.start = start_with_a_metrics_port
    done = threading.Event()
    scraper = threading.Thread(target=_scrape, args=(ports, done), daemon=True)
    scraper.start()
    try:
        yield
    finally:
        done.set()
        scraper.join()
        del stack.start  # the method again
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def _scrape(ports: list[int], done: threading.Event) -> None:
    while not done.wait(SCRAPE_SECONDS):
        for port in list(ports):
            with contextlib.suppress(OSError):
                urllib.request.urlopen(f"http://{HOST}:{port}/metrics", timeout=2).read()
