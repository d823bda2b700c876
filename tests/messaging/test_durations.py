"""Durations in settings (messaging.durations): what is accepted, and a bad one stopping
start-up with the variable's name."""

import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from messaging.durations import format_duration, parse_duration, parse_retention, to_ms

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("7d", timedelta(days=7)),
        ("12h", timedelta(hours=12)),
        ("30m", timedelta(minutes=30)),
        ("45s", timedelta(seconds=45)),
        ("90", timedelta(seconds=90)),
        (" 1.5h ", timedelta(minutes=90)),
        ("2D", timedelta(days=2)),
        (3600, timedelta(hours=1)),
        (timedelta(days=1), timedelta(days=1)),
    ],
)
def test_durations_as_people_write_them(value, expected):
    assert parse_duration(value, name="RETAIN_INBOX") == expected


@pytest.mark.parametrize("value", ["", "0", "0s", "-1d", "7 days", "1w", "d", None, True, -5])
def test_anything_else_names_its_setting(value):
    with pytest.raises(ImproperlyConfigured, match=r"^RETAIN_INBOX must be a positive duration"):
        parse_duration(value, name="RETAIN_INBOX")


def test_a_topic_retention_may_be_unlimited():
    assert parse_retention("unlimited", name="X") is None
    assert parse_retention("forever", name="X") is None
    assert parse_retention("-1", name="X") is None
    assert parse_retention("365d", name="X") == timedelta(days=365)
    assert to_ms(None) == -1 and to_ms(timedelta(seconds=2)) == 2000


def test_durations_are_shown_as_they_are_written():
    assert [
        format_duration(d)
        for d in (timedelta(days=7), timedelta(hours=36), timedelta(seconds=90), None)
    ] == ["7d", "36h", "90s", "unlimited"]


@pytest.mark.parametrize(
    "variable",
    # One of each way settings.py reads them (every RETAIN_* shares the first).
    ["RETAIN_INBOX", "KAFKA_EVENT_TOPIC_RETENTION", "PURGE_INTERVAL"],
)
def test_a_bad_retention_variable_stops_start_up_naming_it(variable):
    result = subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=ROOT,
        env=os.environ | {variable: "a week"},
        capture_output=True,
        text=True,
    )

    assert result.returncode != 0
    assert f"ImproperlyConfigured: {variable} must be a positive duration" in result.stderr
