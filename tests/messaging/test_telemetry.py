"""Traces are off unless configured; configured, a process sends its spans over OTLP
(messaging.telemetry)."""

import os
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from opentelemetry import trace
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind

import config.celery
from messaging import telemetry
from tests.otlp import Collector

ROOT = Path(__file__).resolve().parents[2]
OTEL = [
    "OTEL_SDK_DISABLED",
    "OTEL_TRACES_EXPORTER",
    "OTEL_EXPORTER_OTLP_ENDPOINT",
    "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
    "OTEL_EXPORTER_OTLP_PROTOCOL",
    "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL",
    "OTEL_SERVICE_NAME",
    "OTEL_RESOURCE_ATTRIBUTES",
    "OTEL_TRACES_SAMPLER",
    "OTEL_PYTHON_DISABLED_INSTRUMENTATIONS",
]


@pytest.fixture
def environ(monkeypatch):
    """No OpenTelemetry variable but those a test sets."""
    for name in OTEL:
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


@pytest.mark.parametrize(
    ("variables", "on"),
    [
        ({}, False),
        ({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318"}, True),
        ({"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://collector:4318/v1/traces"}, True),
        ({"OTEL_EXPORTER_OTLP_ENDPOINT": ""}, False),
        ({"OTEL_TRACES_EXPORTER": "console"}, True),
        ({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4318", "OTEL_SDK_DISABLED": "true"}, False),
        ({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4318", "OTEL_TRACES_EXPORTER": "none"}, False),
    ],
)
def test_traces_are_on_only_when_the_opentelemetry_variables_ask(variables, on):
    assert telemetry.enabled(variables) is on


def test_unconfigured_nothing_is_installed(environ):
    assert telemetry.setup("web") is False

    assert isinstance(trace.get_tracer_provider(), trace.ProxyTracerProvider)
    assert not any("opentelemetry" in m for m in settings.MIDDLEWARE)


@pytest.mark.parametrize(
    ("variables", "complaint"),
    [
        ({"OTEL_TRACES_EXPORTER": "zipkin"}, "otlp"),
        ({"OTEL_EXPORTER_OTLP_PROTOCOL": "grpc"}, "4318"),
        ({"OTEL_EXPORTER_OTLP_TRACES_PROTOCOL": "grpc"}, "http/protobuf"),
    ],
)
def test_an_exporter_the_shop_does_not_ship_is_refused_by_name(environ, variables, complaint):
    for name, value in variables.items():
        environ.setenv(name, value)

    with pytest.raises(ImproperlyConfigured, match=complaint):
        telemetry._exporter()


def test_a_trace_starts_at_an_operation_never_at_a_lone_query(environ):
    exporter = InMemorySpanExporter()
    tracer = telemetry.tracer_provider("web", SimpleSpanProcessor(exporter)).get_tracer("t")

    with tracer.start_as_current_span("SELECT", kind=SpanKind.CLIENT):  # the relay polling
        pass
    with tracer.start_as_current_span("heartbeat"):  # INTERNAL
        pass
    with (
        tracer.start_as_current_span("GET /", kind=SpanKind.SERVER),
        tracer.start_as_current_span("SELECT", kind=SpanKind.CLIENT),
    ):
        pass

    assert [(s.name, s.kind) for s in exporter.get_finished_spans()] == [
        ("SELECT", SpanKind.CLIENT),
        ("GET /", SpanKind.SERVER),
    ]


def test_an_instrumentation_can_be_left_out_by_name(environ):
    from opentelemetry.instrumentation.celery import CeleryInstrumentor
    from opentelemetry.instrumentation.psycopg import PsycopgInstrumentor

    environ.setenv("OTEL_PYTHON_DISABLED_INSTRUMENTATIONS", "psycopg, django")
    telemetry.instrument(telemetry.tracer_provider("worker-shop"))
    try:
        assert CeleryInstrumentor().is_instrumented_by_opentelemetry
        assert not PsycopgInstrumentor().is_instrumented_by_opentelemetry
        assert not any("opentelemetry" in m for m in settings.MIDDLEWARE)
    finally:
        telemetry.uninstrument()
    assert not CeleryInstrumentor().is_instrumented_by_opentelemetry


def test_the_process_is_named_unless_opentelemetry_names_it(environ):
    named = telemetry.tracer_provider("worker-shop").resource.attributes
    environ.setenv("OTEL_SERVICE_NAME", "shop-eu-1")
    renamed = telemetry.tracer_provider("worker-shop").resource.attributes

    assert (named["service.name"], named["service.namespace"]) == (
        "worker-shop",
        "event-driven-shop",
    )
    assert renamed["service.name"] == "shop-eu-1"


def test_a_celery_worker_is_named_after_its_consumer_groups(monkeypatch):
    named = []
    monkeypatch.setattr(telemetry, "setup", named.append)

    config.celery._traces(SimpleNamespace(options={"consumers": "warehouse"}))
    config.celery._traces(SimpleNamespace(options={}))

    assert named == ["worker-warehouse", "worker"]


PROBE = """
import django, os
os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings"
django.setup()
from opentelemetry import trace
from opentelemetry.trace import SpanKind
from messaging import telemetry, tracing
print(telemetry.setup("probe"))
with tracing.tracer.start_as_current_span("GET /probe", kind=SpanKind.SERVER):
    pass
"""


def probe(**variables) -> tuple[str, str]:
    """A process that sets traces up as every entrypoint does, and makes one span."""
    env = {k: v for k, v in os.environ.items() if k not in OTEL}
    result = subprocess.run(
        [sys.executable, "-c", PROBE],
        cwd=ROOT,
        env=env | {"DJANGO_SECRET_KEY": "x", "OTEL_BSP_SCHEDULE_DELAY": "100", **variables},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.strip(), result.stderr


def test_a_configured_process_sends_its_spans_to_the_collector_over_otlp():
    collector = Collector()
    try:
        on, _ = probe(OTEL_EXPORTER_OTLP_ENDPOINT=collector.endpoint)
        off, _ = probe(OTEL_EXPORTER_OTLP_ENDPOINT=collector.endpoint, OTEL_SDK_DISABLED="true")
    finally:
        collector.close()

    assert (on, off) == ("True", "False")
    [span] = collector.spans
    assert (span.service, span.name, span.kind) == ("probe", "GET /probe", "SERVER")


def test_a_collector_that_is_not_there_costs_nothing_but_the_spans():
    out, err = probe(
        OTEL_EXPORTER_OTLP_ENDPOINT="http://127.0.0.1:9", OTEL_EXPORTER_OTLP_TIMEOUT="1"
    )

    assert out == "True"
    assert "Traceback" not in err
