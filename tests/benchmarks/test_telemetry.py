"""Scenario 8's "telemetry on" is the shop as compose runs it (benchmarks/telemetry.py),
exporting to a collector in a process of its own (benchmarks/collector.py)."""

import os
import urllib.request

from benchmarks import telemetry


class FakeStack:
    def start(self, name: str, command: str) -> dict:
        return {k: os.environ.get(k) for k in (*telemetry.ON, "METRICS_PORT")} | {
            "endpoint": os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT")
        }


def test_processes_started_with_telemetry_on_export_to_the_collector_with_no_span_per_query(
    monkeypatch,
):
    for name in ("OTEL_PYTHON_DISABLED_INSTRUMENTATIONS", "OTEL_EXPORTER_OTLP_ENDPOINT"):
        monkeypatch.delenv(name, raising=False)
    stack = FakeStack()

    with telemetry.collector() as collector, telemetry.telemetry_on(stack, collector):
        started = stack.start("relay", "python -m devstack run relay")
        export = urllib.request.Request(f"{collector.endpoint}/v1/traces", data=b"\n\0")
        assert urllib.request.urlopen(export, timeout=10).status == 200

    assert collector.endpoint.startswith("http://127.0.0.1:")
    assert started == {
        "OTEL_PYTHON_DISABLED_INSTRUMENTATIONS": "psycopg",
        "METRICS_PORT": started["METRICS_PORT"],
        "endpoint": collector.endpoint,
    }
    assert int(started["METRICS_PORT"]) > 0
    for name in ("OTEL_PYTHON_DISABLED_INSTRUMENTATIONS", "OTEL_EXPORTER_OTLP_ENDPOINT"):
        assert name not in os.environ
