"""The points rule: one point per whole unit of the total, in the shop's currency."""

from decimal import Decimal

import pytest

from loyalty.rules import points_for


@pytest.mark.parametrize(
    ("amount", "points"),
    [("37.90", 37), ("14.00", 14), ("0.99", 0), ("0", 0), ("1999.99", 1999)],
)
def test_one_point_per_whole_unit_rounded_down(settings, amount, points):
    settings.SHOP_CURRENCY = "EUR"

    assert points_for(amount=Decimal(amount), currency="EUR") == points


def test_an_order_in_another_currency_earns_nothing(settings):
    settings.SHOP_CURRENCY = "EUR"

    assert points_for(amount=Decimal("250.00"), currency="USD") == 0
