"""How many points an order earns: one per whole unit of its total, in the shop's currency.

€37.90 earns 37 points. An order in another currency earns none: loyalty knows no
exchange rate, and a point must be worth the same whatever the customer paid in.
"""

from decimal import ROUND_FLOOR, Decimal

from django.conf import settings


def points_for(*, amount: Decimal, currency: str) -> int:
    if currency != settings.SHOP_CURRENCY:
        return 0
    return int(amount.to_integral_value(rounding=ROUND_FLOOR))
