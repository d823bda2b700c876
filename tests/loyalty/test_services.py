"""Awarding points and taking them back, once each, in whatever order the facts come."""

import uuid
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from loyalty import selectors, services
from loyalty.models import Award

pytestmark = pytest.mark.django_db

PLACED_AT = datetime(2026, 11, 24, 10, tzinfo=UTC)


def award(order_id=None, *, email="ada@example.com", total="37.90", currency="EUR"):
    return services.points_award(
        order_id=order_id or uuid.uuid4(),
        email=email,
        total=Decimal(total),
        currency=currency,
        placed_at=PLACED_AT,
    )


def test_an_order_earns_its_customer_one_point_per_whole_unit():
    award(total="37.90")
    award(total="14.00")

    assert selectors.balance(email="ada@example.com") == 51


def test_the_same_placement_twice_awards_once():
    order_id = uuid.uuid4()

    first = award(order_id)
    again = award(order_id)

    assert first is not None and again is None
    assert Award.objects.count() == 1
    assert selectors.balance(email="ada@example.com") == 37


def test_a_cancellation_takes_the_points_back_once():
    order_id = uuid.uuid4()
    award(order_id)
    award(total="10.00")

    services.points_take_back(order_id=order_id)
    services.points_take_back(order_id=order_id)

    assert selectors.balance(email="ada@example.com") == 10
    [cancelled, kept] = sorted(selectors.awards(email="ada@example.com"), key=lambda a: a.points)[
        ::-1
    ]
    assert (cancelled.points, cancelled.cancelled) == (37, True)  # shown, as taken back
    assert (kept.points, kept.cancelled) == (10, False)


def test_a_cancellation_before_its_placement_is_remembered_and_the_points_never_count():
    order_id = uuid.uuid4()

    services.points_take_back(order_id=order_id)
    assert selectors.awards(email="ada@example.com") == []  # nothing placed yet to show
    award(order_id)

    [late] = selectors.awards(email="ada@example.com")
    assert (late.order_id, late.points, late.cancelled) == (order_id, 37, True)
    assert selectors.balance(email="ada@example.com") == 0


def test_points_follow_the_email_whatever_its_case():
    award(email="Ada@Example.com")

    assert selectors.balance(email="ada@example.COM") == 37
    assert selectors.balance(email="grace@example.com") == 0


def test_a_blank_email_sees_no_points_not_even_the_erased_ones():
    order_id = uuid.uuid4()
    award(order_id)
    services.customer_erase(order_id=order_id)

    assert selectors.balance(email="") == 0
    assert selectors.awards(email="  ") == []


def test_an_erased_customer_loses_the_link_and_a_replay_brings_nobody_back():
    order_id = uuid.uuid4()
    award(order_id)

    services.customer_erase(order_id=order_id)
    services.projection_reset()  # a rebuild: the placement is read again
    award(order_id)

    erased = Award.objects.get(order_id=order_id)
    assert (erased.email, erased.points) == ("", 37)
    assert selectors.balance(email="ada@example.com") == 0


def test_a_rebuild_starts_from_nothing():
    award()

    services.projection_reset()

    assert not Award.objects.exists()
