"""`manage.py purge_messages` and the scheduler's purge: thin entrypoints into
messaging.retention, on a real PostgreSQL."""

import io
import os
import re
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from messaging import retention, tasks
from messaging.models import InboxEntry
from tests.factories import database_session
from tests.messaging.test_retention import OLD, RECENT, inbox_entry, outbox_row

ROOT = Path(__file__).resolve().parent.parent.parent

pytestmark = pytest.mark.django_db


def purge_messages(*args: str) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command("purge_messages", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def rows(output: str) -> dict[str, list[str]]:
    """The summary's table: each table's name and its columns."""
    table = {}
    for line in output.splitlines()[1:]:
        name, _, rest = line.partition("  ")
        if rest and not line.startswith(("Dry run", "Deleted")):
            table[name.strip()] = rest.split()
    return table


def test_a_dry_run_says_what_would_go_per_table_and_the_oldest_row_kept():
    inbox_entry()
    inbox_entry()
    kept = inbox_entry(at=RECENT)
    outbox_row()  # pending: owed to Kafka, kept however old

    out, _ = purge_messages("--dry-run")

    header = out.splitlines()[0]
    assert header.startswith("table") and header.endswith("would delete  oldest row kept")
    summary = rows(out)
    assert summary["inbox"][:2] == ["7d", "2"]
    assert summary["inbox"][2] == f"{kept.started_at:%Y-%m-%d}"
    assert summary["outbox"][:3] == ["7d", "0", f"{OLD:%Y-%m-%d}"]
    assert summary["message log"][:2] == ["30d", "0"]
    assert out.rstrip().endswith("Dry run: nothing was deleted.")
    assert InboxEntry.objects.count() == 3


def test_a_purge_shows_its_progress_and_sums_up(capsys, monkeypatch):
    pauses = []
    monkeypatch.setattr(retention, "sleep", pauses.append)
    for _ in range(5):
        inbox_entry()
    inbox_entry(at=RECENT)

    out, _ = purge_messages("--batch-size", "2", "--table", "inbox")

    assert InboxEntry.objects.count() == 1
    assert len(pauses) == 2  # after each full batch (PURGE_PAUSE), none after the last
    assert re.search(r"inbox: 100%\|.*\| 5/5", capsys.readouterr().err)  # tqdm's bar
    [line] = [line for line in out.splitlines() if line.startswith("inbox")]
    assert line.split()[1:3] == ["7d", "5"]
    assert re.search(r"Deleted 5 rows in \d+\.\d s\.", out)


def test_a_purge_can_be_told_not_to_pause(monkeypatch):
    pauses = []
    monkeypatch.setattr(retention, "sleep", pauses.append)
    for _ in range(5):
        inbox_entry()

    out, _ = purge_messages("--batch-size", "2", "--table", "inbox", "--pause", "0")

    assert pauses == []
    assert not InboxEntry.objects.exists()
    assert re.search(r"Deleted 5 rows in \d+\.\d s\.", out)


@pytest.mark.parametrize(("value", "read"), [(None, "1.0"), ("0.5", "0.5"), ("0", "0.0")])
def test_the_pause_comes_from_the_environment(value, read):
    env = {k: v for k, v in os.environ.items() if k != "PURGE_PAUSE"}
    env |= {"DJANGO_SECRET_KEY": "x"} | ({"PURGE_PAUSE": value} if value else {})
    code = "from django.conf import settings; print(settings.MESSAGING['PURGE_PAUSE'])"
    result = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", code],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )

    assert result.stdout.splitlines()[-1] == read, result.stderr


def test_a_pause_that_is_not_a_number_stops_start_up():
    env = os.environ | {"DJANGO_SECRET_KEY": "x", "PURGE_PAUSE": "-1"}
    result = subprocess.run(
        [sys.executable, "manage.py", "check"], cwd=ROOT, env=env, capture_output=True, text=True
    )

    assert result.returncode != 0
    assert "PURGE_PAUSE='-1': a number, 0 or more" in result.stderr


def test_a_purge_refused_says_why():
    with database_session() as other:
        other.execute("SELECT pg_advisory_lock(%s)", [retention.PURGE_LOCK_ID])
        with pytest.raises(CommandError, match="Another purge is running"):
            purge_messages()


def test_the_scheduler_runs_the_purge_periodically():
    entry = settings.CELERY_BEAT_SCHEDULE["messaging-purge"]
    old = inbox_entry(at=timezone.now() - timedelta(days=8))

    deleted = tasks.purge_messages.apply().get()

    assert entry["task"] == tasks.purge_messages.name and entry["schedule"] == 3600.0
    assert deleted >= 1 and not InboxEntry.objects.filter(pk=old.pk).exists()
