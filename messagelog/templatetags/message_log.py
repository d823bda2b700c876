"""Filters for the message log's admin templates."""

from django import template

from ..admin import display

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
