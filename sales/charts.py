"""Geometry for the sales page's charts, drawn as plain SVG and CSS on the server."""

from babel.numbers import format_compact_currency
from django.conf import settings
from django.utils.translation import get_language, to_locale

CHART_HEIGHT = 160


def with_bars(rows: list[dict], field: str) -> list[dict]:
    """Each row with `bar`: its `field` as a percentage of the largest."""
    top = max((row[field] for row in rows), default=0) or 1
    return [{**row, "bar": round(100 * row[field] / top)} for row in rows]


VALUE_SPACE = 16  # above the tallest column, for its amount


def day_columns(days: list[dict], currency: str) -> list[dict]:
    """Each day with the height and y of its revenue column in a CHART_HEIGHT-high SVG,
    and its amount written above the column (days without revenue have none)."""
    top = max((day["revenue"] for day in days), default=0) or 1
    columns = []
    for index, day in enumerate(days):
        height = round((CHART_HEIGHT - VALUE_SPACE) * float(day["revenue"]) / float(top))
        columns.append(
            {
                **day,
                "x": index * 40 + 8,
                "height": height,
                "y": CHART_HEIGHT - height,
                "value": compact_money(day["revenue"], currency) if day["revenue"] else "",
                "value_y": CHART_HEIGHT - height - 4,
                "label_y": CHART_HEIGHT + 16,
            }
        )
    return columns


def compact_money(amount, currency: str) -> str:
    """An amount short enough to sit above a 28-pixel column: €38, €940, €1.2K, €35K."""
    # Whole units (€38, not €37.90), then CLDR's short form: one decimal while it has one
    # digit before the point (€1.2K, €35K, €2.5M).
    digits = 1 if not 9_950 <= amount < 999_500 else 0
    locale = to_locale(get_language() or settings.LANGUAGE_CODE)
    short = format_compact_currency(round(amount), currency, locale=locale, fraction_digits=digits)
    return short.replace(".0K", "K").replace(".0M", "M")
