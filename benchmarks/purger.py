"""Scenario 6's purge, in a process of its own (benchmarks.purge starts it).

A module apart because a spawned process imports its target's module before Django is set
up, and benchmarks.purge imports models.
"""

import time


def purge(results) -> None:
    """`retention.purge()` in a process of its own, as the scheduler's worker or `manage.py
    purge_messages` runs it; what it did goes to `results`.

    In a thread of the harness its Python work (the ids of every batch, the DELETE's
    parameters) shared one interpreter lock with the clients that time the BUYs, and their
    latencies counted it.
    """
    import django

    django.setup()
    from messaging import retention

    started = time.perf_counter()
    try:
        report = retention.purge()
    except Exception as exc:  # told to the harness, which raises it
        results.put({"error": f"{type(exc).__name__}: {exc}"})
        return
    results.put(
        {
            "seconds": time.perf_counter() - started,
            "deleted": report.deleted,
            "per_table": {
                t.name: {"deleted": t.deleted, "seconds": round(t.seconds, 2)}
                for t in report.tables
            },
        }
    )
