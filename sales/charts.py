"""Geometry for the sales page's charts, drawn as plain SVG and CSS on the server."""

CHART_HEIGHT = 160


def with_bars(rows: list[dict], field: str) -> list[dict]:
    """Each row with `bar`: its `field` as a percentage of the largest."""
    top = max((row[field] for row in rows), default=0) or 1
    return [{**row, "bar": round(100 * row[field] / top)} for row in rows]


def day_columns(days: list[dict]) -> list[dict]:
    """Each day with the height and y of its revenue column in a CHART_HEIGHT-high SVG."""
    top = max((day["revenue"] for day in days), default=0) or 1
    columns = []
    for index, day in enumerate(days):
        height = round(CHART_HEIGHT * float(day["revenue"]) / float(top))
        columns.append(
            {
                **day,
                "x": index * 40 + 8,
                "height": height,
                "y": CHART_HEIGHT - height,
                "label_y": CHART_HEIGHT + 16,
            }
        )
    return columns
