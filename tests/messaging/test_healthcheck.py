"""`manage.py healthcheck <kind>`: the containers' health check, read from heartbeats."""

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


def a_worker(*, groups=("sales",)) -> Heart:
    heart = Heart()
    heart.pulse(Heartbeat.Kind.WORKER, f"sales@{heart.host}", by_heart=True)
    for name in groups:
        heart.pulse(Heartbeat.Kind.CONSUMER, name).report("consuming")
    heart.beat()
    return heart


def silence(seconds: float, **which) -> None:
    Heartbeat.objects.filter(**which).update(beat_at=F("beat_at") - timedelta(seconds=seconds))


@pytest.mark.django_db
def test_a_beating_worker_on_this_host_is_healthy(capsys):
    a_worker()

    call_command("healthcheck", "worker")

    assert capsys.readouterr().out == f"worker on {socket.gethostname()}: beating\n"


@pytest.mark.django_db
def test_a_worker_whose_consumer_went_silent_is_not(capsys):
    a_worker()
    silence(16, kind=Heartbeat.Kind.CONSUMER)

    with pytest.raises(CommandError, match=r"consumer sales \(pid \d+\) silent for 16 s"):
        call_command("healthcheck", "worker")


@pytest.mark.django_db
def test_nothing_of_that_kind_on_this_host_is_not_healthy():
    a_worker()

    with pytest.raises(CommandError, match=f"no relay on {socket.gethostname()} has beaten"):
        call_command("healthcheck", "relay")
    with pytest.raises(CommandError, match="no worker on elsewhere has beaten"):
        call_command("healthcheck", "worker", "--host", "elsewhere")


@pytest.mark.django_db(transaction=True)
def test_the_exit_code_is_what_the_container_engine_reads():
    a_worker()
    env = os.environ | {"DATABASE_URL": database_url()}

    def healthcheck(kind: str) -> subprocess.CompletedProcess:
        command = [sys.executable, "manage.py", "healthcheck", kind]
        return subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True)

    assert healthcheck("worker").returncode == 0
    scheduler = healthcheck("scheduler")
    assert scheduler.returncode == 1
    assert "no scheduler on" in scheduler.stderr
