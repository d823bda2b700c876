"""Small HTML pieces shared by the message log's admin pages: badges, outcome chips, links."""

import json
import re
from datetime import timedelta
from urllib.parse import urlencode
from uuid import UUID

from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.html import format_html, format_html_join

from messaging import deadletter_headers as dead_letter_headers
from messaging.wire import MalformedRecord, schema_version

from ..outcomes import GroupOutcome, Status
from .personal import MASKED, Viewer

CHIP_SIGNS = {
    Status.HANDLED: "✓",
    Status.RETRYING: "⟳",
    Status.WAITING: "⧗",
    Status.QUEUED: "⏸",
    Status.DEAD_LETTERED: "✕",
    Status.PENDING: "…",
}


def kind_badge(kind: str) -> str:
    return format_html('<span class="mlog-badge mlog-{}">{}</span>', kind or "bad", kind or "bad")


def conversation_url(correlation_id: UUID) -> str:
    return reverse("admin:messagelog_conversation", args=[correlation_id])


def log_search_url(term) -> str:
    """The message log filtered by a search term (an id, a key)."""
    return f"{reverse('admin:messagelog_messagerecord_changelist')}?{urlencode({'q': str(term)})}"


def conversation_link(correlation_id: UUID | None, text: str | None = None) -> str:
    if correlation_id is None:
        return "-"
    return format_html(
        '<a href="{}" title="{}">{}</a>',
        conversation_url(correlation_id),
        f"The whole conversation {correlation_id}",
        text or f"{str(correlation_id)[:8]}…",
    )


def outcome_chips(outcomes: list[GroupOutcome]) -> str:
    """Every group's outcome in one line: ✓ handled, ⟳ retrying, ⧗ waiting, ⏸ queued,
    ✕ dead-lettered, … pending."""
    if not outcomes:
        return format_html('<span class="mlog-muted">{}</span>', "no consumer")
    return format_html_join(
        " ",
        '<span class="mlog-chip mlog-{}{}" title="{}: {}">{} {}{}</span>',
        (
            (
                o.status,
                " mlog-retried" if o.failures and o.status == Status.HANDLED else "",
                o.group,
                o.summary,
                CHIP_SIGNS[o.status],
                o.group,
                f" ×{o.duplicates + 1}" if o.duplicates else "",
            )
            for o in outcomes
        ),
    )


def pretty_json(value) -> str:
    return format_html(
        '<pre class="mlog-json">{}</pre>', json.dumps(value, indent=2, ensure_ascii=False)
    )


def pretty_text(text: str) -> str:
    """Text whose lines matter (a traceback, a record's value), as written."""
    return format_html('<pre class="mlog-json">{}</pre>', text) if text else "-"


def duration(delta: timedelta | None) -> str:
    """A duration an operator reads at a glance: 850 ms, 2.35 s, 3 min 12 s."""
    if delta is None:
        return ""
    seconds = delta.total_seconds()
    if abs(seconds) < 1:
        return f"{seconds * 1000:.0f} ms"
    if abs(seconds) < 60:
        return f"{seconds:.2f} s"
    minutes, rest = divmod(int(seconds), 60)
    if minutes < 60:
        return f"{minutes} min {rest} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes} min"


def outcome_table(outcomes: list[GroupOutcome], viewer: Viewer = MASKED) -> str:
    return render_to_string(
        "admin/messagelog/_outcomes.html", {"outcomes": outcomes, "viewer": viewer}
    )


def version(headers: dict) -> str:
    """The version the data was written as, linked to its schema in the event API document."""
    schema = headers.get("ce_dataschema", "")
    try:
        number = schema_version(schema)
    except MalformedRecord:
        return format_html('<span class="mlog-error">unreadable: {}</span>', schema)
    if not schema:
        return format_html(
            '{} <span class="mlog-muted">(no dataschema: written before versions)</span>', number
        )
    # People read the event API page; the dataschema URI itself is for tools.
    page = f"{reverse('event-api')}#{schema.rsplit('/', 1)[-1].rsplit('.v', 1)[0]}"
    return format_html(
        '<a href="{}">{}</a> <span class="mlog-muted">{}</span>', page, number, schema
    )


def header_table(headers: dict) -> str:
    shown = sorted((name, _header_value(name, value)) for name, value in headers.items())
    return render_to_string("admin/messagelog/_headers.html", {"headers": shown})


def _header_value(name: str, stored: str) -> str:
    """A header as the log stored it (messaging.wire.as_text), for reading. A record re-driven
    from a dead-letter topic carries Spring's dead-letter headers, whose numbers are binary
    and stored escaped: they are shown as the numbers they are."""
    if name not in dead_letter_headers.NUMBER_WIDTHS:
        return stored
    raw = _ESCAPED_BYTE.sub(lambda m: bytes([int(m[1], 16)]), stored.encode())
    number = dead_letter_headers.read_number(name, raw)
    return stored if number is None else str(number)


# What as_text makes of a byte that is not UTF-8 (or a NUL): "\x8b".
_ESCAPED_BYTE = re.compile(rb"\\x([0-9a-f]{2})")
