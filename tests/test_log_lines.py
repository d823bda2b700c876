"""Log lines name orders and messages by id, never the customer: the JSON lines written
while an order is placed, refused, failed, dead-lettered and erased carry no name, email,
phone or address. And the web server's access log never writes a query string, where an
operator's search for an email would be."""

import io
import json
import logging
import shlex
import uuid
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command
from pythonjsonlogger.json import JsonFormatter

from messaging import testing
from messaging.logcontext import MessageContextFilter, PersonalDataFilter
from notifications import delivery
from notifications.models import Notification
from shop.contracts import Customer, CustomerErased, PlaceOrder, RequestedLine
from shop.models import Order
from tests.factories import product

ROOT = Path(__file__).resolve().parent.parent
PERSON = Customer(
    name="Noor Unlogged",
    email="noor.unlogged@example.com",
    phone="+31 20 555 0199",
    address="7 Silent Canal, Amsterdam",
)


class FailingGateway:
    """A text gateway that refuses the number, quoting the customer as gateways do."""

    def send(self, *, to: str, body: str, idempotency_key: str) -> bool:
        raise ConnectionError(f"gateway refused {to} for {PERSON.email}")


@pytest.fixture
def json_lines():
    """What the console handler writes with LOG_FORMAT=json, as settings configure it."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    formatter = settings.LOGGING["formatters"]["json"]
    handler.setFormatter(
        JsonFormatter(formatter["format"], rename_fields=formatter["rename_fields"])
    )
    handler.addFilter(MessageContextFilter())
    handler.addFilter(PersonalDataFilter())
    root = logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    try:
        yield lambda: [json.loads(line) for line in stream.getvalue().splitlines()]
    finally:
        root.removeHandler(handler)
        root.setLevel(level)


@pytest.mark.django_db
def test_an_orders_whole_life_and_erasure_log_ids_not_the_customer(
    json_lines, settings, celery_tasks
):
    settings.TEXT_BACKEND = f"{__name__}.FailingGateway"
    product("LOG-001", stock=5)
    order_id = uuid.uuid4()
    lines = (RequestedLine(sku="LOG-001", quantity=1),)
    testing.deliver(PlaceOrder(order_id=order_id, customer=PERSON, lines=lines), to="shop")
    # A request that fails its contract (the phone): dead-lettered, its error logged.
    bad = PlaceOrder.model_construct(
        order_id=uuid.uuid4(),
        customer=PERSON.model_copy(update={"phone": "call Noor"}),
        lines=lines,
    )
    testing.deliver(bad, to="shop")
    placed = testing.deliver(
        PlaceOrder(order_id=uuid.uuid4(), customer=PERSON, lines=lines), to="shop"
    )
    assert placed.outcome == "handled"
    [order_event] = [s.message for s in placed.sent]
    testing.deliver(order_event, to="notifications")
    for notification in Notification.objects.all():
        delivery.notification_deliver(notification_id=notification.id)  # the text fails
    Order.objects.update(status=Order.Status.CANCELLED)
    call_command("erase_customer", email=PERSON.email, stdout=io.StringIO())
    for order in Order.objects.all():
        testing.deliver(CustomerErased(order_id=order.id), to="notifications")

    written = json_lines()
    text = json.dumps(written)
    assert [v for v in (PERSON.name, PERSON.email, PERSON.phone, PERSON.address) if v in text] == []
    assert "call Noor" not in text
    # The lines are there, and they say which order, message and group.
    assert any("dead-lettered" in line["message"] for line in written)
    assert any("attempt 1 failed" in line["message"] for line in written)
    assert any(line["message"] == f"order {order_id}: customer erased" for line in written)
    assert all({"time", "level", "logger", "correlation_id"} <= line.keys() for line in written)


def test_the_web_servers_access_log_writes_the_path_without_the_query_string():
    """An operator's search (/admin/...?q=ada@example.com) would put an email in the log."""
    [web] = [
        line.split(":", 1)[1]
        for line in (ROOT / "Procfile").read_text().splitlines()
        if line.startswith("web:")
    ]
    args = shlex.split(web)
    access_format = args[args.index("--access-logformat") + 1]

    assert "%(U)s" in access_format  # the path
    # r: the request line with its query string; q: the query string; f: the referer,
    # another page's address with its query; {...}i: any request header.
    for atom in ("%(r)s", "%(q)s", "%(f)s", "}i"):
        assert atom not in access_format
