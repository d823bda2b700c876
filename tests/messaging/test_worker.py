"""Celery's processes beat: the scheduler (`celery beat`) as a real subprocess.

(A worker and its consumer group members beat in tests/e2e/test_heartbeats.py.)
"""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from messaging import liveness
from messaging.models import Heartbeat
from tests.e2e.conftest import test_database_url as database_url

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.django_db(transaction=True)


def test_the_scheduler_beats_while_it_runs_and_deletes_its_heartbeat_when_stopped(tmp_path):
    env = os.environ | {"DATABASE_URL": database_url(), "HEARTBEAT_INTERVAL": "0.5"}
    celery = str(Path(sys.executable).with_name("celery"))
    beat = subprocess.Popen(
        [celery, "-A", "config", "beat", "-l", "info", "--schedule", str(tmp_path / "schedule")],
        cwd=ROOT,
        env=env,
        stdout=(tmp_path / "beat.log").open("w"),
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 30
        while not liveness.fresh().filter(kind=Heartbeat.Kind.SCHEDULER, pid=beat.pid).exists():
            assert time.monotonic() < deadline, (tmp_path / "beat.log").read_text()
            assert beat.poll() is None, (tmp_path / "beat.log").read_text()
            time.sleep(0.1)
        scheduler = Heartbeat.objects.get(kind=Heartbeat.Kind.SCHEDULER, pid=beat.pid)
        assert (scheduler.name, scheduler.role) == ("scheduler", "running")
    finally:
        beat.send_signal(signal.SIGTERM)
        beat.wait(timeout=15)
    assert not Heartbeat.objects.filter(pid=beat.pid).exists()
