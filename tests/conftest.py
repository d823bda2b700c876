"""Fixtures every tier of the suite may use."""

import pytest
from celery import current_app
from django.test import TransactionTestCase
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from messaging import telemetry, tracing
from tests import flush

TransactionTestCase._fixture_teardown = flush.retrying(TransactionTestCase._fixture_teardown)


@pytest.fixture
def celery_tasks(monkeypatch) -> list[tuple[str, tuple, float]]:
    """The tasks handed to Celery, by name, as (name, args, countdown); none reaches Redis.

    Services name the tasks they schedule (`current_app.send_task`): tasks are the
    entrypoints above them, so importing one would make a cycle.
    """
    sent = []

    def send_task(name, args=(), kwargs=None, countdown=0.0, **options):
        sent.append((name, tuple(args), countdown))

    monkeypatch.setattr(current_app, "send_task", send_task)
    return sent


@pytest.fixture
def traces(monkeypatch) -> InMemorySpanExporter:
    """Traces on for one test, in process: every finished span, from the runtime and from
    Django's, Celery's and psycopg's instrumentations, in `traces.get_finished_spans()`.

    The provider is the one production builds (messaging.telemetry), with the same sampler,
    but not made global: the rest of the session stays untraced.
    """
    exporter = InMemorySpanExporter()
    provider = telemetry.tracer_provider("tests", SimpleSpanProcessor(exporter))
    monkeypatch.setattr(tracing, "tracer", provider.get_tracer("messaging"))
    telemetry.instrument(provider)
    yield exporter
    telemetry.uninstrument()
    provider.shutdown()
