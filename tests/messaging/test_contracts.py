import uuid

import pytest
from pydantic import ValidationError

from messaging import registry
from messaging.contracts import Event, UnknownMessageType, message_class, message_role
from shop.contracts import OrderCancelled, PlaceOrder, ShopEvent
from warehouse.contracts import StockReserved


def test_messages_are_named_by_their_owner_and_class():
    assert PlaceOrder.type_name() == "shop.PlaceOrder"
    assert (PlaceOrder.kind, PlaceOrder.topic) == ("command", "shop.commands")
    assert (StockReserved.kind, StockReserved.topic) == ("event", "warehouse.events")
    assert message_class("shop.OrderCancelled") is OrderCancelled


def test_a_message_is_frozen_and_refuses_unknown_fields():
    event = OrderCancelled(order_id=uuid.uuid4(), reason="out of stock")
    with pytest.raises(ValidationError):
        event.reason = "changed"
    with pytest.raises(ValidationError, match="extra"):
        OrderCancelled(order_id=uuid.uuid4(), reason="x", refund=True)


def test_an_unknown_type_is_a_lookup_error():
    with pytest.raises(UnknownMessageType, match=r"shop\.OrderTeleported"):
        message_class("shop.OrderTeleported")


def test_contract_bases_are_not_messages():
    assert not ShopEvent.is_concrete()
    with pytest.raises(UnknownMessageType):
        message_class("shop.ShopEvent")
    with pytest.raises(TypeError, match="contract base"):
        registry.register("test-bases", events={ShopEvent: []})


def test_two_contracts_cannot_claim_one_type():
    with pytest.raises(TypeError, match=r"shop\.OrderCancelled"):

        class OrderCancelled(Event):
            source = "shop"
            topic = "orders"


def test_every_app_registers_one_consumer_group():
    groups = registry.groups()
    # Exactly these: Django's auth and staticfiles have `handlers` modules of another kind
    # (WSGI), and a group registered for them would be waited for and never start.
    assert set(groups) == {"shop", "warehouse", "notifications", "sales", "loyalty", "audit"}
    assert groups["warehouse"].subscribed_topics() == ["orders", "warehouse.commands"]
    assert groups["shop"].subscribed_topics() == ["shop.commands", "warehouse.events"]
    assert groups["notifications"].subscribed_topics() == [
        "notifications.commands",
        "orders",
        "warehouse.events",
    ]
    assert "orders" in groups["audit"].subscribed_topics()


def test_rejections_and_compensations_are_declared_by_their_owners():
    assert message_role("shop.OrderCancelled") == "compensation"
    assert message_role("warehouse.DispatchRejected") == "rejection"
    assert message_role("shop.OrderPlaced") == ""
    assert message_role("nobody.Declares") == ""
