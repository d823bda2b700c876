"""Geometry for the sales page's charts, drawn as plain SVG and CSS on the server."""

CHART_HEIGHT = 160


def with_bars(rows: list[dict], field: str) -> list[dict]:
    """Each row with `bar`: its `field` as a percentage of the largest."""
    top = max((row[field] for row in rows), default=0) or 1
    return [{**row, "bar": round(100 * row[field] / top)} for row in rows]


VALUE_SPACE = 16  # above the tallest column, for its amount


def day_columns(days: list[dict]) -> list[dict]:
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
                "value": compact_euros(day["revenue"]) if day["revenue"] else "",
                "value_y": CHART_HEIGHT - height - 4,
                "label_y": CHART_HEIGHT + 16,
            }
        )
    return columns


def compact_euros(amount) -> str:
    """An amount short enough to sit above a 28-pixel column: €38, €940, €1.2k, €35k."""
    euros = float(amount)
    # Each format is used only below what it would round up to the next one's size.
    if euros < 999.5:
        return f"€{euros:.0f}"
    if euros < 9_950:
        return f"€{euros / 1000:.1f}k"
    if euros < 999_500:
        return f"€{euros / 1000:.0f}k"
    return f"€{euros / 1_000_000:.1f}M"
