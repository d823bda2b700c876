"""Erasing a customer: the shop's orders lose the person and keep the sale, every erased
order is announced for the other apps, and an order still on its way is left alone."""

import uuid
from io import StringIO

import pytest
from django.contrib.admin.models import LogEntry
from django.contrib.auth.models import Permission, User
from django.core.management import CommandError, call_command
from django.urls import reverse
from django.utils import timezone

from messagelog.models import MessageRecord
from messaging import testing
from messaging.contracts import ERASED, ERASED_EMAIL
from shop import services
from shop.contracts import (
    ERASED_PHONE,
    CustomerErased,
    OrderPlaced,
    OrderRejected,
    PlaceOrder,
    RequestedLine,
)
from shop.models import ErasedOrder, IdempotencyKey, Order
from tests.factories import CUSTOMER
from tests.shop.orders import an_order, sent

pytestmark = pytest.mark.django_db


def test_a_settled_order_keeps_its_sale_and_loses_its_customer():
    account = User.objects.create_user("ada", password="pw")
    order = an_order(Order.Status.DISPATCHED)
    order.account = account
    order.save()
    IdempotencyKey.objects.create(
        account=account, key="k1", order_id=order.id, correlation_id=order.correlation_id,
        request_fingerprint="abc",
    )  # fmt: skip

    erasure = services.customer_erase(email="ADA@example.com ")  # as typed by an operator

    assert erasure.erased == [order.id] and erasure.in_progress == []
    order.refresh_from_db()
    assert (order.customer_name, order.email, order.phone, order.address) == (
        ERASED,
        ERASED_EMAIL,
        ERASED_PHONE,
        ERASED,
    )
    assert order.account is None
    assert order.status == Order.Status.DISPATCHED and order.total == 28
    assert [(ln.sku, ln.quantity) for ln in order.lines.all()] == [("MUG-001", 2)]
    assert IdempotencyKey.objects.get().request_fingerprint == ""
    assert ErasedOrder.objects.filter(order_id=order.id).exists()


def test_the_reason_a_customer_typed_when_cancelling_is_erased_with_them():
    order = an_order(Order.Status.CANCELLED, status_reason="Moving to 3 Elm Street, sorry")

    services.customer_erase(email=CUSTOMER.email)

    order.refresh_from_db()
    assert (order.status, order.status_reason) == (Order.Status.CANCELLED, ERASED)


def test_each_erased_order_is_announced_in_its_own_conversation():
    orders = [an_order(Order.Status.DISPATCHED), an_order(Order.Status.CANCELLED)]

    services.customer_erase(email=CUSTOMER.email)

    announced = [row for row in sent() if row.type == CustomerErased.type_name()]
    assert sorted((row.key, row.correlation_id) for row in announced) == sorted(
        (str(o.id), o.correlation_id) for o in orders
    )
    # The event names the order only: no email on the topic.
    assert all(row.payload == {"order_id": row.key} for row in announced)


def test_an_order_on_its_way_is_left_as_it_is():
    """A parcel cannot go to an erased address, nor an email to an erased customer."""
    packing = an_order(Order.Status.CONFIRMED)
    done = an_order(Order.Status.CANCELLED)

    erasure = services.customer_erase(email=CUSTOMER.email)

    assert erasure.erased == [done.id] and erasure.in_progress == [packing.id]
    packing.refresh_from_db()
    assert packing.email == CUSTOMER.email
    assert not ErasedOrder.objects.filter(order_id=packing.id).exists()


def test_another_customers_orders_are_not_touched():
    mine = an_order(Order.Status.DISPATCHED)
    theirs = an_order(Order.Status.DISPATCHED)
    Order.objects.filter(id=theirs.id).update(email="grace@example.com")

    services.customer_erase(email=CUSTOMER.email)

    assert Order.objects.get(id=theirs.id).customer_name == CUSTOMER.name
    assert Order.objects.get(id=mine.id).customer_name == ERASED


def logged(message, *, correlation_id: uuid.UUID) -> MessageRecord:
    return MessageRecord.objects.create(
        topic=message.topic,
        partition=0,
        offset=MessageRecord.objects.count(),
        key=str(message.order_id),
        message_id=uuid.uuid4(),
        type=message.type_name(),
        source=message.source,
        kind=message.kind,
        correlation_id=correlation_id,
        time=timezone.now(),
        payload=message.model_dump(mode="json"),
    )


def test_a_refused_request_naming_the_customer_is_erased_too():
    """No order exists, but the message log keeps the request, customer and all."""
    refused, waiting = uuid.uuid4(), uuid.uuid4()
    for order_id in (refused, waiting):
        place = PlaceOrder(
            order_id=order_id, customer=CUSTOMER, lines=(RequestedLine(sku="OLD-1", quantity=1),)
        )
        logged(place, correlation_id=order_id)
    logged(OrderRejected(order_id=refused, reason="No longer for sale"), correlation_id=refused)

    erasure = services.customer_erase(email=CUSTOMER.email)

    assert erasure.erased == [refused] and erasure.in_progress == [waiting]
    [announced] = [row for row in sent() if row.type == CustomerErased.type_name()]
    assert (announced.key, announced.correlation_id) == (str(refused), refused)


def test_a_refused_request_read_again_after_its_erasure_places_nothing():
    order_id = uuid.uuid4()
    ErasedOrder.objects.create(order_id=order_id)
    place = PlaceOrder(
        order_id=order_id, customer=CUSTOMER, lines=(RequestedLine(sku="MUG-001", quantity=1),)
    )

    handled = testing.deliver(place, to="shop")

    assert handled.outcome == "handled"
    assert not Order.objects.filter(id=order_id).exists()
    assert handled.sent_of(OrderPlaced) == [] and handled.sent_of(OrderRejected) == []


def test_the_command_prints_ids_not_the_person_and_says_what_is_left():
    done, packing = an_order(Order.Status.DISPATCHED), an_order(Order.Status.PLACED)
    out = StringIO()

    with pytest.raises(CommandError, match="still on their way"):
        call_command("erase_customer", email=CUSTOMER.email, stdout=out)

    printed = out.getvalue()
    assert f"erased: {done.id}" in printed
    assert f"still in progress, not erased: {packing.id}" in printed
    assert CUSTOMER.email not in printed


def test_the_command_says_when_there_is_nobody_to_erase():
    with pytest.raises(CommandError, match="No order"):
        call_command("erase_customer", email="nobody@example.com", stdout=StringIO())


@pytest.fixture
def eraser(client):
    user = User.objects.create_user("dpo", password="pw", is_staff=True)
    user.user_permissions.add(
        *Permission.objects.filter(codename__in=["view_order", "erase_customer"])
    )
    client.force_login(user)
    return client


CHANGELIST = reverse("admin:shop_order_changelist")


def test_the_admin_action_asks_first_then_erases_every_order_of_each_customer(eraser):
    selected, other = an_order(Order.Status.DISPATCHED), an_order(Order.Status.CANCELLED)
    form = {"action": "erase_customers", "_selected_action": [str(selected.id)]}

    asking = eraser.post(CHANGELIST, form)

    assert asking.status_code == 200 and b"cannot be undone" in asking.content
    assert not ErasedOrder.objects.exists()

    done = eraser.post(CHANGELIST, {**form, "confirmed": "yes"}, follow=True)

    assert done.status_code == 200
    assert set(ErasedOrder.objects.values_list("order_id", flat=True)) == {selected.id, other.id}
    assert LogEntry.objects.filter(object_id=str(selected.id)).exists()


def test_staff_without_the_erase_permission_are_not_offered_the_action(client):
    user = User.objects.create_user("clerk", password="pw", is_staff=True)
    user.user_permissions.add(Permission.objects.get(codename="view_order"))
    client.force_login(user)
    order = an_order(Order.Status.DISPATCHED)

    page = client.get(CHANGELIST).content.decode()
    forced = client.post(
        CHANGELIST,
        {"action": "erase_customers", "_selected_action": [str(order.id)], "confirmed": "yes"},
    )

    assert "erase_customers" not in page
    assert forced.status_code in (200, 302) and not ErasedOrder.objects.exists()
