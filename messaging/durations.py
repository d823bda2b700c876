"""Durations as people write them in settings: "7d", "12h", "30m", "45s" or plain seconds.

Retention settings come from the environment; a typo there must stop the process at
start-up with the variable's name, not surface a week later as a purge that deleted too
much or nothing.
"""

import re
from datetime import timedelta

from django.core.exceptions import ImproperlyConfigured

UNITS = {"d": 86_400, "h": 3_600, "m": 60, "s": 1}
_DURATION = re.compile(r"(\d+(?:\.\d+)?)\s*([dhms]?)")
# What a topic retention may say instead of a duration: keep every record.
UNLIMITED = frozenset({"unlimited", "forever", "-1"})


def parse_duration(value: object, *, name: str) -> timedelta:
    """A positive duration from a timedelta, a number of seconds or a string like "7d"."""
    if isinstance(value, timedelta):
        duration = value
    elif isinstance(value, int | float) and not isinstance(value, bool):
        duration = timedelta(seconds=value)
    elif isinstance(value, str) and (match := _DURATION.fullmatch(value.strip().lower())):
        number, unit = match.groups()
        duration = timedelta(seconds=float(number) * UNITS[unit or "s"])
    else:
        duration = None
    if duration is None or duration <= timedelta(0):
        raise ImproperlyConfigured(
            f"{name} must be a positive duration such as 7d, 12h, 30m, 45s or a number of "
            f"seconds, not {value!r}"
        )
    return duration


def parse_retention(value: object, *, name: str) -> timedelta | None:
    """A topic's retention: a positive duration, or None for "unlimited" (keep every record)."""
    if value is None or (isinstance(value, str) and value.strip().lower() in UNLIMITED):
        return None
    return parse_duration(value, name=name)


def to_ms(duration: timedelta | None) -> int:
    """Kafka's retention.ms: milliseconds, -1 for unlimited."""
    return -1 if duration is None else int(duration.total_seconds() * 1000)


def format_duration(duration: timedelta | None) -> str:
    """The largest whole unit that says it exactly, as settings write it: 7d, 36h, 90s."""
    if duration is None:
        return "unlimited"
    seconds = duration.total_seconds()
    for unit, size in UNITS.items():
        if seconds >= size and seconds % size == 0:
            return f"{int(seconds // size)}{unit}"
    return f"{seconds:g}s"
