"""Production settings, health endpoints and logs."""

import io
import json
import logging
import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from messaging.heartbeats import Heart
from messaging.logcontext import MessageContextFilter, message_context
from messaging.metadata import Metadata
from messaging.models import Heartbeat
from messaging.registry import groups
from tests.factories import order_placed

ROOT = Path(__file__).resolve().parent.parent


def manage(*args: str, **env: str) -> subprocess.CompletedProcess:
    # Production: none of the demo's or the test session's relaxations.
    clean = {
        k: v for k, v in os.environ.items() if k != "SHOP_DEMO" and not k.startswith("DJANGO_")
    }
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=clean | env,
        capture_output=True,
        text=True,
    )


def test_the_deploy_check_reports_nothing_on_production_settings():
    result = manage(
        "check", "--deploy", "--fail-level", "WARNING", DJANGO_SECRET_KEY=secrets.token_urlsafe(50)
    )

    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues (0 silenced)." in result.stdout


def test_without_debug_there_is_no_default_secret_key():
    result = manage("check")

    assert result.returncode != 0
    assert "Set DJANGO_SECRET_KEY (or DJANGO_SECRET_KEY_FILE)." in result.stderr


def test_the_secret_key_can_come_from_a_file(tmp_path):
    key_file = tmp_path / "secret_key"
    key_file.write_text(secrets.token_urlsafe(50) + "\n")

    result = manage("check", DJANGO_SECRET_KEY_FILE=str(key_file))

    assert result.returncode == 0, result.stderr


def test_the_demo_account_exists_only_in_demo_mode(settings):
    settings.DEMO_MODE = False
    with pytest.raises(CommandError, match="only in demo mode"):
        call_command("ensure_demo_admin")


def test_liveness_answers(client):
    assert client.get("/health/live/").json() == {"status": "ok"}


def beating(*, relay_role: str = "leader") -> Heart:
    """Heartbeats as a running relay and a member of every consumer group write them."""
    heart = Heart()
    heart.pulse(Heartbeat.Kind.RELAY, "relay").report(relay_role)
    for name in groups():
        heart.pulse(Heartbeat.Kind.CONSUMER, name).report("consuming")
    heart.beat()
    return heart


@pytest.mark.django_db
def test_readiness_checks_every_server_and_the_runtime_processes(client):
    beating()

    response = client.get("/health/ready/")

    body = response.json()
    assert response.status_code == 200, body
    assert set(body["checks"]) == {"postgres", "redis", "kafka", "processes"}
    assert all(check["ok"] for check in body["checks"].values())
    members = body["checks"]["processes"]["detail"]["consumer group members"]
    assert members == dict.fromkeys(sorted(groups()), 1)


@pytest.mark.django_db
def test_readiness_fails_without_a_leading_relay(client):
    beating(relay_role="standby")

    response = client.get("/health/ready/")

    assert response.status_code == 503
    check = response.json()["checks"]["processes"]
    assert check["ok"] is False
    assert check["detail"] == "RuntimeError: no relay is leading (none has beaten as leader lately)"


@pytest.mark.django_db
def test_readiness_fails_when_kafka_is_unreachable(client, settings):
    settings.MESSAGING = {**settings.MESSAGING, "BOOTSTRAP_SERVERS": "127.0.0.1:1"}

    response = client.get("/health/ready/")

    assert response.status_code == 503
    assert response.json()["checks"]["kafka"]["ok"] is False


def test_log_lines_written_while_handling_carry_the_correlation_id():
    from pythonjsonlogger.json import JsonFormatter

    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(MessageContextFilter())
    handler.setFormatter(JsonFormatter("%(levelname)s %(message)s %(correlation_id)s %(group)s"))
    logger = logging.getLogger("tests.logcontext")
    logger.addHandler(handler)
    metadata = Metadata.for_message(order_placed(("MUG-001", 1)))

    with message_context(metadata, "warehouse"):
        logger.warning("reserving")
    logger.warning("idle")
    logger.removeHandler(handler)

    inside, outside = (json.loads(line) for line in stream.getvalue().splitlines())
    assert inside["correlation_id"] == str(metadata.correlation_id)
    assert inside["group"] == "warehouse"
    assert outside["correlation_id"] == "-"
