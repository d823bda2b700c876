"""Turning traces on for a process: the OpenTelemetry SDK, its exporter, the instrumentations.

Off unless configured, with OpenTelemetry's own variables: `OTEL_EXPORTER_OTLP_ENDPOINT`
(or `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`, or `OTEL_TRACES_EXPORTER=otlp|console`) turns
it on, `OTEL_SDK_DISABLED=true` or `OTEL_TRACES_EXPORTER=none` keeps it off. Unconfigured,
`setup` installs nothing: no SDK, no exporter, no instrumentation, and the OpenTelemetry API
the runtime calls (messaging.tracing) records nothing.

Configured, every process sends its spans over OTLP/HTTP (the exporter reads the other
standard `OTEL_EXPORTER_OTLP_*` variables itself) from a background thread, in batches: a
collector that is away costs dropped spans and a log line, never a request or a handling.
`setup` is called once by each entrypoint: the web's WSGI module, each Celery worker as it
starts, the relay and replays.

- Django's instrumentation makes each request a SERVER span (not the health checks);
- Celery's carries the context in each task's headers, so a task sent while a record is
  handled (the packing timer, a delivery, a retry) runs in the same trace;
- psycopg's makes each query a span of whatever ran it (the costly one:
  `OTEL_PYTHON_DISABLED_INSTRUMENTATIONS=psycopg` leaves it out, and docker-compose.yml
  and the benchmark's "telemetry on" set that: +23% CPU per handling with it, +5% without).

Unset, OTEL_PYTHON_DISABLED_INSTRUMENTATIONS leaves nothing out, as OpenTelemetry defines
it: the variable is OpenTelemetry's own, and giving its absence another meaning here would
surprise whoever knows it (and a process run without compose, under a debugger or in the
tests, gets the whole trace). What the shop ships sets it instead, where an operator sees
it and clears it to look for a slow query.

Kafka's client is not instrumented: the context travels in the outbox row instead (see
messaging.tracing). A trace starts only at an operation: a query outside any (the relay's
polling, a heartbeat) is dropped, unless `OTEL_TRACES_SAMPLER` chooses otherwise.
"""

import logging
import os

from django.core.exceptions import ImproperlyConfigured
from opentelemetry import trace
from opentelemetry.sdk.resources import SERVICE_NAME, Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import (
    BatchSpanProcessor,
    ConsoleSpanExporter,
    SpanExporter,
)
from opentelemetry.sdk.trace.sampling import (
    ALWAYS_ON,
    Decision,
    ParentBased,
    Sampler,
    SamplingResult,
)
from opentelemetry.trace import SpanKind

logger = logging.getLogger(__name__)

NAMESPACE = "event-driven-shop"
# Load balancers and compose probe these every few seconds: a trace each would bury the rest.
UNTRACED_URLS = "/health/,/static/"

_provider: TracerProvider | None = None


def enabled(environ=os.environ) -> bool:
    """Whether the OpenTelemetry variables ask for traces."""
    if environ.get("OTEL_SDK_DISABLED", "").strip().lower() == "true":
        return False
    exporter = environ.get("OTEL_TRACES_EXPORTER", "").strip().lower()
    if exporter == "none":
        return False
    endpoints = ("OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")
    return bool(exporter) or any(environ.get(name, "").strip() for name in endpoints)


def setup(service: str) -> bool:
    """Trace this process, as `service` unless OTEL_SERVICE_NAME names it, if configured.

    Returns whether traces are on. Calling it again changes nothing.
    """
    global _provider
    if _provider is not None:
        return True
    if not enabled():
        return False
    _provider = tracer_provider(service, BatchSpanProcessor(_exporter()))
    trace.set_tracer_provider(_provider)
    instrument(_provider)
    logger.info(
        "traces on: %s sends them to %s",
        _provider.resource.attributes[SERVICE_NAME],
        os.environ.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")
        or os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT")
        or os.environ.get("OTEL_TRACES_EXPORTER"),
    )
    return True


def tracer_provider(service: str, *processors) -> TracerProvider:
    """A provider naming the process, with the shop's sampler, sending to `processors`."""
    attributes = {"service.namespace": NAMESPACE}
    named = os.environ.get("OTEL_SERVICE_NAME") or "service.name=" in os.environ.get(
        "OTEL_RESOURCE_ATTRIBUTES", ""
    )
    if not named:
        attributes[SERVICE_NAME] = service
    # None: OTEL_TRACES_SAMPLER (and its argument) as the SDK reads them.
    sampler = None if os.environ.get("OTEL_TRACES_SAMPLER") else ParentBased(OperationsOnly())
    provider = TracerProvider(resource=Resource.create(attributes), sampler=sampler)
    for processor in processors:
        provider.add_span_processor(processor)
    return provider


def instrument(provider: TracerProvider) -> None:
    """Django, Celery and psycopg report to `provider`, but those that
    OTEL_PYTHON_DISABLED_INSTRUMENTATIONS names (from now on: Django's middleware is added to
    the settings, so a handler built earlier is not traced)."""
    untraced = os.environ.get("OTEL_PYTHON_DJANGO_EXCLUDED_URLS") or os.environ.get(
        "OTEL_PYTHON_EXCLUDED_URLS"
    )
    options = {"django": {"excluded_urls": untraced or UNTRACED_URLS}}
    for name, instrumentor in _instrumentors().items():
        if name not in _disabled():
            instrumentor.instrument(tracer_provider=provider, **options.get(name, {}))


def uninstrument() -> None:
    for instrumentor in _instrumentors().values():
        if instrumentor.is_instrumented_by_opentelemetry:
            instrumentor.uninstrument()


def _instrumentors() -> dict:
    from opentelemetry.instrumentation.celery import CeleryInstrumentor
    from opentelemetry.instrumentation.django import DjangoInstrumentor
    from opentelemetry.instrumentation.psycopg import PsycopgInstrumentor

    return {
        "django": DjangoInstrumentor(),
        "celery": CeleryInstrumentor(),
        "psycopg": PsycopgInstrumentor(),
    }


def _disabled() -> set[str]:
    """The instrumentations to leave out, by name (OpenTelemetry's own variable): a span per
    query is the most detailed part of a trace, and its most expensive (README, "Traces")."""
    names = os.environ.get("OTEL_PYTHON_DISABLED_INSTRUMENTATIONS", "")
    return {name.strip() for name in names.split(",") if name.strip()}


class OperationsOnly(Sampler):
    """Starts a trace at an operation (a request, a handled record, a task, a message sent)
    and never at a database query or other step outside of one: the relay's polling, the
    consumers' bookkeeping and the heartbeats would otherwise each be a trace of their own.
    Everything under an operation follows its parent's decision (ParentBased)."""

    def should_sample(
        self,
        parent_context,
        trace_id,
        name,
        kind=None,
        attributes=None,
        links=None,
        trace_state=None,
    ) -> SamplingResult:
        if kind in (SpanKind.CLIENT, SpanKind.INTERNAL, None):
            return SamplingResult(Decision.DROP)
        return ALWAYS_ON.should_sample(
            parent_context, trace_id, name, kind, attributes, links, trace_state
        )

    def get_description(self) -> str:
        return "OperationsOnly"


def _exporter() -> SpanExporter:
    chosen = os.environ.get("OTEL_TRACES_EXPORTER", "otlp").strip().lower() or "otlp"
    if chosen == "console":
        return ConsoleSpanExporter()
    if chosen != "otlp":
        raise ImproperlyConfigured(
            f"OTEL_TRACES_EXPORTER={chosen!r}: the shop exports traces with otlp (or console)"
        )
    protocol = (
        os.environ.get("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL")
        or os.environ.get("OTEL_EXPORTER_OTLP_PROTOCOL")
        or "http/protobuf"
    )
    if protocol != "http/protobuf":
        raise ImproperlyConfigured(
            f"OTEL_EXPORTER_OTLP_PROTOCOL={protocol!r}: the shop sends OTLP over HTTP "
            "(http/protobuf); point OTEL_EXPORTER_OTLP_ENDPOINT at the collector's HTTP "
            "port (4318)"
        )
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

    return OTLPSpanExporter()
