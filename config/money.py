"""Amounts shown to people: formatted for their currency (ISO 4217), by Babel's CLDR data.

`format_money(Decimal("12.5"), "EUR")` is "€12.50", with "USD" "$12.50", with "CHF"
"CHF12.50": the symbol, its place and the decimals are the currency's, not hard-coded.
In templates (a builtin filter, see settings.TEMPLATES): `{{ order.total|money:order.currency }}`;
without a currency, the shop's own.
"""

from decimal import Decimal

from babel.numbers import format_currency
from django import template
from django.conf import settings
from django.utils.translation import get_language, to_locale

register = template.Library()


def format_money(amount: Decimal | str | float, currency: str | None = None) -> str:
    locale = to_locale(get_language() or settings.LANGUAGE_CODE)
    return format_currency(Decimal(amount), currency or settings.SHOP_CURRENCY, locale=locale)


@register.filter(name="money")
def money_filter(amount, currency: str | None = None) -> str:
    if amount is None or amount == "":
        return ""
    return format_money(amount, currency)
