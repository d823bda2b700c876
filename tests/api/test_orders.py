"""A customer's orders: only their own, each with its conversation, from the 202 on."""

import uuid
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from messaging.models import OutboxMessage
from shop.models import Order, OrderLine, Product
from tests.factories import CUSTOMER, product

from .conftest import place, shop_consumes

pytestmark = pytest.mark.django_db


def an_order(account, *, status=Order.Status.PLACED, placed_at=None) -> Order:
    """An order as the shop's consumer would have created it."""
    order = Order.objects.create(
        correlation_id=uuid.uuid4(),
        account=account,
        status=status,
        customer_name=CUSTOMER.name,
        email=CUSTOMER.email,
        phone=CUSTOMER.phone,
        address=CUSTOMER.address,
        total=Decimal("28.00"),
        placed_at=placed_at or timezone.now(),
    )
    OrderLine.objects.create(
        order=order, sku="MUG-001", name="Mug", unit_price=Decimal("14.00"), quantity=2
    )
    return order


def test_the_list_has_only_my_orders_newest_first(api, customer, other_customer):
    now = timezone.now()
    old = an_order(customer, placed_at=now - timedelta(days=2))
    new = an_order(customer, placed_at=now)
    an_order(other_customer)

    body = api.get("/api/orders/").json()

    assert [o["id"] for o in body["results"]] == [str(new.id), str(old.id)]
    assert body["results"][0]["url"] == f"http://testserver/api/orders/{new.id}/"
    assert body["results"][0]["total"] == "28.00"


def test_the_list_pages_with_a_cursor_and_counts_nothing(api, customer):
    now = timezone.now()
    orders = [an_order(customer, placed_at=now - timedelta(minutes=n)) for n in range(3)]

    first = api.get("/api/orders/", {"page_size": 2}).json()
    second = api.get(first["next"]).json()

    assert "count" not in first
    assert [o["id"] for o in first["results"] + second["results"]] == [str(o.id) for o in orders]
    assert second["next"] is None


def queries(client, url) -> int:
    with CaptureQueriesContext(connection) as run:
        assert client.get(url).status_code == 200
    return len(run)


def test_listing_costs_the_same_queries_for_one_order_or_many(api, customer):
    an_order(customer)
    one = queries(api, "/api/orders/")
    for _ in range(4):
        an_order(customer)

    assert queries(api, "/api/orders/") == one <= 2  # the token, the page


def test_both_operations_are_announced_on_the_orders_url(api):
    assert set(api.get("/api/orders/")["Allow"].split(", ")) == {
        "GET",
        "HEAD",
        "POST",
        "OPTIONS",
    }


def test_an_order_shows_its_lines_status_and_conversation(api, customer):
    order = an_order(customer, status=Order.Status.DISPATCHED)
    Order.objects.filter(id=order.id).update(carrier="Parcelforce", tracking_number="PF123")

    response = api.get(f"/api/orders/{order.id}/")

    body = response.json()
    assert response.status_code == 200
    assert body["status"] == "dispatched"
    assert (body["carrier"], body["tracking_number"]) == ("Parcelforce", "PF123")
    assert body["lines"] == [
        {"sku": "MUG-001", "name": "Mug", "quantity": 2, "unit_price": "14.00"}
    ]
    assert body["total"] == "28.00" and body["correlation_id"] == str(order.correlation_id)


def test_someone_elses_order_does_not_exist_for_me(api, other_customer):
    order = an_order(other_customer)

    assert api.get(f"/api/orders/{order.id}/").status_code == 404
    assert api.post(f"/api/orders/{order.id}/cancel/").status_code == 404
    assert not OutboxMessage.objects.exists()


def test_a_just_requested_order_is_there_at_once_as_requested(api, other_api):
    product("MUG-001")
    url = place(api)["Location"]

    response = api.get(url)

    body = response.json()
    assert response.status_code == 200
    assert body["status"] == "requested"
    assert body["lines"] == [{"sku": "MUG-001", "name": None, "quantity": 2, "unit_price": None}]
    assert body["total"] is None and body["placed_at"] is None
    [entry] = body["timeline"]
    assert (entry["type"], entry["kind"], entry["state"]) == (
        "shop.PlaceOrder",
        "command",
        "waiting in the outbox",
    )
    assert other_api.get(url).status_code == 404


def test_once_the_shop_has_placed_it_the_order_shows_what_the_shop_made_of_it(api):
    product("MUG-001", price="14.00")
    url = place(api)["Location"]

    shop_consumes(OutboxMessage.objects.get(type="shop.PlaceOrder"))

    body = api.get(url).json()
    assert body["status"] == "placed"
    assert body["total"] == "28.00"
    assert [e["type"] for e in body["timeline"]] == ["shop.PlaceOrder", "shop.OrderPlaced"]


def test_a_request_the_shop_refused_shows_as_rejected_with_the_reason(api):
    product("MUG-001")
    url = place(api)["Location"]
    Product.objects.filter(sku="MUG-001").update(active=False)  # withdrawn meanwhile

    shop_consumes(OutboxMessage.objects.get(type="shop.PlaceOrder"))

    body = api.get(url).json()
    assert body["status"] == "rejected"
    assert body["status_reason"] == "No longer for sale: MUG-001"
    assert api.post(f"{url}cancel/").status_code == 409


def test_cancelling_a_placed_order_sends_cancel_order_and_answers_202(api, customer):
    order = an_order(customer)

    response = api.post(
        f"/api/orders/{order.id}/cancel/", {"reason": "Changed my mind"}, format="json"
    )

    assert response.status_code == 202
    assert response.json()["url"] == f"http://testserver/api/orders/{order.id}/"
    command = OutboxMessage.objects.get()
    assert (command.type, command.key) == ("shop.CancelOrder", str(order.id))
    assert command.correlation_id == order.correlation_id
    assert command.payload["reason"] == "Changed my mind"


def test_cancelling_without_a_reason_uses_the_contracts_default(api, customer):
    order = an_order(customer)

    assert api.post(f"/api/orders/{order.id}/cancel/").status_code == 202
    assert OutboxMessage.objects.get().payload["reason"] == "at your request"


def test_a_dispatched_order_cannot_be_cancelled(api, customer):
    order = an_order(customer, status=Order.Status.DISPATCHED)

    response = api.post(f"/api/orders/{order.id}/cancel/")

    assert response.status_code == 409
    assert response.json() == {"detail": "This order has already been dispatched."}
    assert not OutboxMessage.objects.exists()


def test_an_order_still_being_placed_cannot_be_cancelled_yet(api):
    product("MUG-001")
    url = place(api)["Location"]

    response = api.post(f"{url}cancel/")

    assert response.status_code == 409
    assert "still placing" in response.json()["detail"]
    assert OutboxMessage.objects.filter(type="shop.CancelOrder").count() == 0


def test_a_cancellation_the_shop_refuses_after_the_202_shows_on_the_order(api, customer):
    order = an_order(customer, status=Order.Status.CONFIRMED)
    assert api.post(f"/api/orders/{order.id}/cancel/").status_code == 202
    # The parcel left before the shop read the CancelOrder.
    Order.objects.filter(id=order.id).update(status=Order.Status.DISPATCHED)

    shop_consumes(OutboxMessage.objects.get(type="shop.CancelOrder"))

    body = api.get(f"/api/orders/{order.id}/").json()
    assert body["status"] == "dispatched"
    assert body["cancellation_refusal"] == "This order has already been dispatched."
    assert [e["type"] for e in body["timeline"]] == [
        "shop.CancelOrder",
        "shop.OrderCancellationRefused",
    ]


def test_an_order_nobody_refused_to_cancel_says_so(api, customer):
    order = an_order(customer)

    assert api.get(f"/api/orders/{order.id}/").json()["cancellation_refusal"] == ""


def test_an_overlong_reason_is_a_400(api, customer):
    order = an_order(customer)

    response = api.post(f"/api/orders/{order.id}/cancel/", {"reason": "x" * 201}, format="json")

    assert response.status_code == 400
    assert "reason" in response.json()
    assert not OutboxMessage.objects.exists()
