"""Small HTML pieces shared by the message log's admin pages: badges, outcome chips, links."""

import json
from datetime import timedelta
from urllib.parse import urlencode
from uuid import UUID

from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.html import format_html, format_html_join

from ..outcomes import GroupOutcome, Status

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


def outcome_table(outcomes: list[GroupOutcome]) -> str:
    return render_to_string("admin/messagelog/_outcomes.html", {"outcomes": outcomes})


def header_table(headers: dict) -> str:
    return render_to_string("admin/messagelog/_headers.html", {"headers": sorted(headers.items())})
