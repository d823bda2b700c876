"""`manage.py healthcheck <kind>`: the containers' health check, read from heartbeats.

The heartbeats here are written for a host of their own, so processes other tests run on
this machine (the end-to-end relay and worker) change nothing.
"""

import os
import socket
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.db.models import F

from messaging.heartbeats import Heart
from messaging.models import Heartbeat
from tests.e2e.conftest import test_database_url as database_url

ROOT = Path(__file__).resolve().parents[2]
HOST = "container-1f3a"


def a_worker(*, groups=("sales",)) -> Heart:
    heart = Heart()
    heart.host = HOST
    heart.pulse(Heartbeat.Kind.WORKER, f"sales@{HOST}", by_heart=True)
    for name in groups:
        heart.pulse(Heartbeat.Kind.CONSUMER, name).report("consuming")
    heart.beat()
    return heart


def silence(seconds: float, **which) -> None:
    Heartbeat.objects.filter(**which).update(beat_at=F("beat_at") - timedelta(seconds=seconds))


@pytest.mark.django_db
def test_a_beating_worker_on_this_host_is_healthy(capsys):
    a_worker()

    call_command("healthcheck", "worker", "--host", HOST)

    assert capsys.readouterr().out == f"worker on {HOST}: beating\n"


@pytest.mark.django_db
def test_a_worker_whose_consumer_went_silent_is_not():
    a_worker()
    silence(16, kind=Heartbeat.Kind.CONSUMER, host=HOST)

    with pytest.raises(CommandError, match=r"consumer sales \(pid \d+\) silent for 16 s"):
        call_command("healthcheck", "worker", "--host", HOST)


@pytest.mark.django_db
def test_nothing_of_that_kind_on_this_host_is_not_healthy():
    a_worker()

    with pytest.raises(CommandError, match=f"no relay on {HOST} has beaten"):
        call_command("healthcheck", "relay", "--host", HOST)
    with pytest.raises(CommandError, match="no worker on elsewhere has beaten"):
        call_command("healthcheck", "worker", "--host", "elsewhere")


def test_the_host_is_this_machines_by_default(monkeypatch):
    asked = []
    monkeypatch.setattr("messaging.liveness.unhealthy_here", lambda *args: asked.append(args) or "")

    call_command("healthcheck", "scheduler")

    assert asked == [("scheduler", socket.gethostname(), "")]


@pytest.mark.django_db(transaction=True)
def test_the_exit_code_is_what_the_container_engine_reads():
    a_worker()
    env = os.environ | {"DATABASE_URL": database_url()}

    def healthcheck(kind: str) -> subprocess.CompletedProcess:
        command = [sys.executable, "manage.py", "healthcheck", kind, "--host", HOST]
        return subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True)

    assert healthcheck("worker").returncode == 0
    scheduler = healthcheck("scheduler")
    assert scheduler.returncode == 1
    assert f"no scheduler on {HOST}" in scheduler.stderr
