"""Filters for the message log's admin templates."""

import json

from django import template

from ..admin import display
from ..admin.personal import MASKED, Viewer

register = template.Library()

register.filter("duration", display.duration)
register.filter("outcome_chips", display.outcome_chips)
register.filter("kind_badge", display.kind_badge)
register.filter("log_search_url", display.log_search_url)
register.filter("outcome_table", display.outcome_table)
register.filter("header_table", display.header_table)


@register.filter
def offset(delta) -> str:
    """Time since the conversation started, signed: +1.25 s."""
    return "" if delta is None else f"+{display.duration(delta)}"


# Personal data: every page that shows payloads or errors has a `viewer` in its context
# (messagelog.admin.personal). Without one, everything personal is masked.


def _viewer(viewer) -> Viewer:
    return viewer if isinstance(viewer, Viewer) else MASKED


@register.filter
def shown_to(text: str, viewer) -> str:
    """Free text (an error, a traceback) as the viewer may read it."""
    return _viewer(viewer).text(text)


@register.filter
def payload_shown_to(step, viewer) -> str:
    """A conversation step's payload, pretty, as the viewer may read it."""
    return json.dumps(
        _viewer(viewer).payload(step.type, step.payload), indent=2, ensure_ascii=False
    )


@register.filter
def headers_shown_to(headers: dict, viewer) -> str:
    return display.header_table(_viewer(viewer).headers(headers))
