"""One BUY is one trace across the real processes: the web (gunicorn, config.wsgi), the
relay and a Celery worker, through PostgreSQL, Kafka and Redis, each exporting over OTLP to
the session's collector (tests/otlp.py), as they would to an OpenTelemetry Collector."""

import socket
import subprocess
import sys
import time
import urllib.request
from collections import Counter
from pathlib import Path
from types import SimpleNamespace

import pytest

from shop.models import Order
from tests.e2e.conversation import buy, settled
from tests.factories import product

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def web(shop_env, shop_processes, tmp_path_factory):
    """The web process as the Procfile runs it, traced: its wsgi module sets traces up."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    log = tmp_path_factory.mktemp("web") / "web.log"
    process = subprocess.Popen(
        [
            str(Path(sys.executable).with_name("gunicorn")),
            "config.wsgi",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            "1",
        ],
        cwd=ROOT,
        env=shop_env | {"DJANGO_DEBUG": "1"},
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            urllib.request.urlopen(url + "/health/live/", timeout=1)
            break
        except OSError:
            if time.monotonic() > deadline or process.poll() is not None:
                process.kill()
                raise AssertionError("the web process did not start:\n" + log.read_text()) from None
            time.sleep(0.2)
    yield SimpleNamespace(url=url)
    process.terminate()
    process.wait(timeout=15)


def test_a_buy_is_one_trace_from_the_request_to_the_last_text(web, collector, wait_until):
    product("MUG-001", price="14.00", stock=10)

    order_id = buy(web, "MUG-001", 1)

    order = wait_until(lambda: settled(order_id), what="the order to be dispatched")
    assert order.status == Order.Status.DISPATCHED
    [request] = collector.wait_for(
        lambda c: [s for s in c.spans if s.kind == "SERVER" and s.name.startswith("POST products/")]
    )
    assert request.service == "web"
    correlation = str(Order.objects.get(id=order_id).correlation_id)

    def whole_trace(collector):
        spans = collector.in_trace(request.trace_id)
        sent = [
            s
            for s in spans
            if s.name in ("create notifications.EmailSent", "create notifications.TextSent")
        ]
        # Each process exports its spans on its own schedule: a send's span can arrive
        # before the span of the task it ran in, which ends after it.
        present = {s.span_id for s in spans}
        complete = all(s.parent_span_id in present for s in sent)
        return spans if len(sent) == 6 and complete else None

    spans = collector.wait_for(whole_trace)
    by_id = {s.span_id: s for s in spans}

    def parent(span):
        return by_id.get(span.parent_span_id)

    handled = [s for s in spans if s.kind == "CONSUMER" and s.name.startswith("process ")]
    created = {
        s.attributes["messaging.message.id"]: s for s in spans if s.name.startswith("create ")
    }
    # Every handling of the order is here, under the creation of the message it handled.
    assert Counter(
        (s.attributes["messaging.consumer.group.name"], s.name.removeprefix("process "))
        for s in handled
    ) >= Counter(
        {
            ("shop", "shop.PlaceOrder"): 1,
            ("warehouse", "shop.OrderPlaced"): 1,
            ("notifications", "shop.OrderPlaced"): 1,
            ("sales", "shop.OrderPlaced"): 1,
            ("shop", "warehouse.StockReserved"): 1,
            ("notifications", "shop.OrderConfirmed"): 1,
            ("warehouse", "warehouse.DispatchOrder"): 1,
            ("shop", "warehouse.OrderDispatched"): 1,
            ("notifications", "warehouse.OrderDispatched"): 1,
        }
    )
    for span in handled:
        assert span.service.startswith("worker")
        assert span.attributes["messaging.message.conversation_id"] == correlation
        assert parent(span) is created[span.attributes["messaging.message.id"]]
    # The relay's send of each message hangs under its creation too.
    for span in (s for s in spans if s.name.startswith("send ")):
        assert span.service == "relay" and parent(span).name.startswith("create ")
    [place] = [s for s in created.values() if s.name == "create shop.PlaceOrder"]
    assert parent(place) is request
    # The packing timer: sent from the DispatchOrder handling through Celery's headers, it
    # ships the parcel, and OrderDispatched is created in it.
    [ship] = [s for s in spans if s.name == "run/warehouse.ship"]
    assert parent(ship).name == "apply_async/warehouse.ship"
    assert parent(parent(ship)).name == "process warehouse.DispatchOrder"
    [dispatched] = [s for s in created.values() if s.name == "create warehouse.OrderDispatched"]
    assert parent(dispatched) is ship
    # Every email and text is delivered by a task of the notification handling that decided
    # it; or, when the task was another order's first (a poll's notifications go in one
    # task), announced in a span of this trace under that handling.
    for span in (s for s in created.values() if s.name.startswith("create notifications.")):
        delivery = parent(span)
        if delivery.name == "announce notification":
            assert parent(delivery).name.startswith("process ")
        else:
            assert delivery.name == "run/notifications.deliver"
            assert parent(parent(delivery)).name.startswith("process ")
    # And the database work of each of them, in the same trace.
    assert any(s.kind == "CLIENT" and s.attributes.get("db.system") == "postgresql" for s in spans)
