"""Scenario 8's "telemetry on" is the shop as compose runs it (benchmarks/telemetry.py)."""

import os

from benchmarks import telemetry


class FakeStack:
    def start(self, name: str, command: str) -> dict:
        return {k: os.environ.get(k) for k in telemetry.ON} | {
            "endpoint": os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT")
        }


def test_processes_started_with_telemetry_on_make_no_span_per_query(monkeypatch):
    monkeypatch.delenv("OTEL_PYTHON_DISABLED_INSTRUMENTATIONS", raising=False)
    monkeypatch.delenv("OTEL_EXPORTER_OTLP_ENDPOINT", raising=False)
    stack = FakeStack()

    with telemetry.telemetry_on(stack, "http://127.0.0.1:1"):
        started = stack.start("relay", "python -m devstack run relay")

    assert started == {
        "OTEL_PYTHON_DISABLED_INSTRUMENTATIONS": "psycopg",
        "endpoint": "http://127.0.0.1:1",
    }
    assert "OTEL_PYTHON_DISABLED_INSTRUMENTATIONS" not in os.environ
    assert "OTEL_EXPORTER_OTLP_ENDPOINT" not in os.environ
