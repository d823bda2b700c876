"""Log lines name the trace and span they were written in (messaging.logcontext)."""

import json
import logging

from opentelemetry.trace import SpanKind
from pythonjsonlogger.json import JsonFormatter

from messaging import tracing
from messaging.logcontext import MessageContextFilter


def test_json_log_lines_carry_the_trace_and_span_next_to_the_correlation_id(traces, settings):
    configured = settings.LOGGING["formatters"]["json"]
    formatter = JsonFormatter(configured["format"], rename_fields=configured["rename_fields"])

    def line() -> dict:
        record = logging.LogRecord("shop", logging.INFO, __file__, 1, "hello", (), None)
        MessageContextFilter().filter(record)
        return json.loads(formatter.format(record))

    with tracing.tracer.start_as_current_span("GET /", kind=SpanKind.SERVER) as request:
        inside = line()
    outside = line()

    assert inside["trace_id"] == f"{request.get_span_context().trace_id:032x}"
    assert inside["span_id"] == f"{request.get_span_context().span_id:016x}"
    assert (outside["trace_id"], outside["span_id"], outside["correlation_id"]) == ("-", "-", "-")
