"""The running shop's processes beat, and the shop is ready only with them alive."""

import json
import socket
import urllib.request

import pytest

from messaging import liveness
from messaging.models import Heartbeat
from messaging.registry import groups

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_the_relay_the_worker_and_a_member_of_every_group_beat(live_server, wait_until):
    wait_until(
        lambda: not liveness.problems(),
        what="a leading relay and a live member of every consumer group",
    )

    alive = {(p.kind, p.name): p for p in liveness.processes() if not p.stale}
    assert alive[(Heartbeat.Kind.RELAY, "relay")].role == "leader"
    worker = alive[(Heartbeat.Kind.WORKER, f"e2e@{socket.gethostname()}")]
    for name in groups():
        member = alive[(Heartbeat.Kind.CONSUMER, name)]
        assert (member.host, member.pid) == (worker.host, worker.pid)
    wait_until(
        lambda: all(
            Heartbeat.objects.get(kind=Heartbeat.Kind.CONSUMER, name=name).details.get("partitions")
            for name in groups()
        ),
        what="every member to report its partitions",
    )
    with urllib.request.urlopen(f"{live_server.url}/health/ready/", timeout=10) as reply:
        body = json.load(reply)
    assert body["checks"]["processes"]["ok"], body
