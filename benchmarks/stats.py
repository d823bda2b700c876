"""Latency summaries: percentiles in milliseconds, the way every table row shows them."""

import math
from collections.abc import Sequence


def percentile(values: Sequence[float], q: float) -> float:
    """The nearest-rank percentile: a value that was really observed."""
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return ordered[rank - 1]


def summary_ms(seconds: Sequence[float]) -> dict[str, float]:
    """n, p50, p95, p99, mean and max of durations given in seconds, in milliseconds."""
    ms = [s * 1000 for s in seconds]
    return {
        "n": len(ms),
        "p50": percentile(ms, 50),
        "p95": percentile(ms, 95),
        "p99": percentile(ms, 99),
        "mean": sum(ms) / len(ms) if ms else math.nan,
        "max": max(ms) if ms else math.nan,
    }


def ratio(figure: float, baseline: float) -> float:
    return figure / baseline if baseline else math.nan
