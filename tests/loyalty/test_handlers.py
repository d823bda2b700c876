"""What loyalty does with the order facts, handed over as the consumer would."""

import pytest

from loyalty import selectors
from loyalty.models import Award, ErasedOrder
from messaging import testing
from messaging.handling import handle_batch
from messaging.models import InboxEntry
from messaging.registry import group
from shop.contracts import CustomerErased, OrderCancelled, OrderConfirmed
from tests.factories import CUSTOMER, order_placed, record_of

pytestmark = pytest.mark.django_db


def test_a_placed_order_earns_points_and_its_cancellation_takes_them_back_sending_nothing():
    placed = order_placed(("MUG-001", 2), ("TEE-001", 1))  # 3 × 10.00

    awarded = testing.deliver(placed, to="loyalty")
    assert selectors.balance(email=CUSTOMER.email) == 30
    taken = testing.deliver(OrderCancelled(order_id=placed.order_id, reason="x"), to="loyalty")

    assert (awarded.outcome, taken.outcome) == ("handled", "handled")
    assert awarded.sent == taken.sent == []  # loyalty publishes nothing
    assert selectors.balance(email=CUSTOMER.email) == 0


def test_the_same_record_read_twice_is_a_duplicate():
    record = record_of(order_placed(("MUG-001", 1)))

    [first] = handle_batch(group("loyalty"), [record])
    [second] = handle_batch(group("loyalty"), [record])

    assert (str(first), str(second)) == ("handled", "duplicate")
    assert selectors.balance(email=CUSTOMER.email) == 10


def test_a_replay_the_inbox_has_forgotten_changes_nothing():
    """Event topics outlive the inbox: the award itself knows the order was counted."""
    placed = order_placed(("MUG-001", 4))
    records = [
        record_of(message, offset=offset)
        for offset, message in enumerate(
            [placed, OrderCancelled(order_id=placed.order_id, reason="x")]
        )
    ]
    handle_batch(group("loyalty"), records)

    InboxEntry.objects.filter(group="loyalty").delete()
    outcomes = handle_batch(group("loyalty"), records)

    assert [str(o) for o in outcomes] == ["handled", "handled"]
    assert Award.objects.get(order_id=placed.order_id).cancelled
    assert selectors.balance(email=CUSTOMER.email) == 0


def test_a_cancellation_read_before_its_placement_is_not_lost():
    placed = order_placed(("MUG-001", 2))

    first = testing.deliver(OrderCancelled(order_id=placed.order_id, reason="x"), to="loyalty")
    then = testing.deliver(placed, to="loyalty")

    assert (first.outcome, then.outcome) == ("handled", "handled")
    [award] = selectors.awards(email=CUSTOMER.email)
    assert (award.points, award.cancelled) == (20, True)
    assert selectors.balance(email=CUSTOMER.email) == 0


def test_customer_erased_forgets_whose_points_they_were():
    placed = order_placed(("MUG-001", 1))
    testing.deliver(placed, to="loyalty")

    handled = testing.deliver(CustomerErased(order_id=placed.order_id), to="loyalty")
    testing.deliver(placed, to="loyalty")  # read again later: nobody comes back

    assert handled.outcome == "handled" and handled.sent == []
    assert not Award.objects.filter(email=CUSTOMER.email).exists()
    assert ErasedOrder.objects.filter(order_id=placed.order_id).exists()


def test_facts_loyalty_does_not_follow_are_ignored():
    handled = testing.deliver(
        OrderConfirmed(order_id=order_placed(("MUG-001", 1)).order_id), to="loyalty"
    )

    assert handled.outcome == "ignored"
