"""The storefront's views.

BUY: the form validates, then records one PlaceOrder in the outbox. The order page: its
status, and the answer to the customer's Cancel, whatever it was.
"""

import uuid
from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from messaging.models import OutboxMessage
from shop import services
from shop.contracts import CancelOrder
from shop.models import Order
from shop.views import SESSION_ORDERS, SESSION_ORDERS_KEPT
from tests.factories import CUSTOMER, product

pytestmark = pytest.mark.django_db

GOOD = {
    "quantity": "2",
    "name": "Ada",
    "email": "ada@example.com",
    "phone": "+44 20 7946 0000",
    "address": "12 Analytical Row",
}


def buy(client, slug="mug-001", **changes):
    return client.post(reverse("shop:buy", args=[slug]), {**GOOD, **changes})


def test_buy_records_place_order_and_lands_on_the_order_page(client):
    product("MUG-001")

    response = buy(client)

    command = OutboxMessage.objects.get()
    assert command.type == "shop.PlaceOrder" and command.kind == "command"
    assert command.payload["lines"] == [{"sku": "MUG-001", "quantity": 2}]
    assert command.payload["customer"]["email"] == "ada@example.com"
    assert response.status_code == 302
    assert response.url == reverse("shop:order", args=[command.key])
    assert client.session[SESSION_ORDERS] == {command.key: str(command.correlation_id)}
    page = client.get(response.url)
    assert page.status_code == 200
    assert b"PlaceOrder" in page.content


def test_a_guests_browser_remembers_its_latest_orders_not_all(client):
    """The session is read and written whole on every BUY: it keeps the latest
    SESSION_ORDERS_KEPT orders, and the oldest one's page is no longer this browser's."""
    product("MUG-001", stock=100)
    pages = [buy(client, quantity="1").url for _ in range(SESSION_ORDERS_KEPT + 1)]

    remembered = client.session[SESSION_ORDERS]
    assert len(remembered) == SESSION_ORDERS_KEPT
    assert list(remembered) == [url.rstrip("/").rsplit("/", 1)[1] for url in pages[1:]]
    assert client.get(pages[-1]).status_code == 200
    assert client.get(pages[0]).status_code == 404


@pytest.mark.parametrize(
    ("quantity", "message"),
    [
        ("0", "Choose at least 1."),
        ("-3", "Choose at least 1."),
        ("two", "Enter the quantity as a whole number."),
        ("21", "At most 20 per order."),
        ("", "Choose a quantity."),
    ],
)
def test_a_bad_quantity_is_explained_and_nothing_is_sent(client, quantity, message):
    product("MUG-001")

    response = buy(client, quantity=quantity)

    assert response.status_code == 400
    assert message in response.content.decode()
    assert "Please correct 1 field below." in response.content.decode()
    assert not OutboxMessage.objects.exists()


def test_bad_contact_details_are_explained(client):
    product("MUG-001")

    response = buy(client, email="not-an-email", phone="call me", name="")

    body = response.content.decode()
    assert response.status_code == 400
    assert "Enter a valid email address." in body
    assert "Enter a phone number" in body
    assert "This field is required." in body
    assert not OutboxMessage.objects.exists()


def test_an_unknown_product_cannot_be_bought(client):
    response = buy(client, slug="no-such-thing")

    assert response.status_code == 302
    assert "not for sale" in client.get(response.url).content.decode()
    assert not OutboxMessage.objects.exists()


def test_an_inactive_product_cannot_be_bought_or_seen(client):
    product("MUG-001", active=False)

    assert client.get(reverse("shop:product", args=["mug-001"])).status_code == 404
    response = buy(client)

    assert response.status_code == 302
    assert not OutboxMessage.objects.exists()


def test_buy_needs_a_csrf_token():
    product("MUG-001")
    response = buy(Client(enforce_csrf_checks=True))

    assert response.status_code == 403
    assert not OutboxMessage.objects.exists()


def test_opening_the_buy_url_shows_the_product_and_buys_nothing(client):
    product("MUG-001")

    response = client.get(reverse("shop:buy", args=["mug-001"]))

    assert response.status_code == 302
    assert response.url == reverse("shop:product", args=["mug-001"])
    assert not OutboxMessage.objects.exists()


def test_someone_elses_order_page_does_not_exist_for_you(client):
    product("MUG-001")
    order_url = buy(client).url

    assert Client().get(order_url).status_code == 404


def test_an_email_the_contract_refuses_is_explained_too(client):
    product("MUG-001")

    response = buy(client, email="ada@localhost")

    assert response.status_code == 400
    assert "Enter an email address with a domain" in response.content.decode()
    assert not OutboxMessage.objects.exists()


def test_a_search_with_a_nul_character_is_just_a_search(client):
    product("MUG-001")

    assert client.get("/?q=%00mug").status_code == 200
    assert client.get("/?category=%00").status_code == 200


# The order page


def placed_here(client, status: str) -> Order:
    """An order this browser placed (its session remembers it)."""
    order = Order.objects.create(
        correlation_id=uuid.uuid4(),
        status=status,
        customer_name=CUSTOMER.name,
        email=CUSTOMER.email,
        phone=CUSTOMER.phone,
        address=CUSTOMER.address,
        total=Decimal("14.00"),
        placed_at=timezone.now(),
    )
    session = client.session
    session[SESSION_ORDERS] = {str(order.id): str(order.correlation_id)}
    session.save()
    return order


def shop_handles_the_cancel_order() -> None:
    row = OutboxMessage.objects.get(type="shop.CancelOrder")
    command = CancelOrder.model_validate(row.payload)
    services.order_cancel_by_customer(command=command, caused_by=row.metadata())


def live(client, order: Order) -> str:
    return client.get(reverse("shop:order-live", args=[order.id])).content.decode()


def test_a_cancel_the_shop_refuses_shows_why_below_the_status(client):
    order = placed_here(client, Order.Status.CONFIRMED)
    response = client.post(reverse("shop:cancel", args=[order.id]), follow=True)
    assert "its status below shows the answer" in response.content.decode()
    # The parcel left before the shop read the CancelOrder.
    Order.objects.filter(id=order.id).update(status=Order.Status.DISPATCHED)
    assert 'data-settled="false"' in live(client, order)  # the answer is still to come

    shop_handles_the_cancel_order()

    page = live(client, order)
    assert 'data-status="dispatched"' in page
    assert "Your request to cancel was refused: This order has already been dispatched." in page
    assert "OrderCancellationRefused" in page  # in the conversation too
    assert 'data-settled="true"' in page


def test_a_cancel_the_shop_grants_settles_the_page_without_a_refusal(client):
    order = placed_here(client, Order.Status.PLACED)
    client.post(reverse("shop:cancel", args=[order.id]))

    shop_handles_the_cancel_order()

    page = live(client, order)
    assert "Cancelled: at your request" in page
    assert "refused" not in page
    assert 'data-settled="true"' in page
