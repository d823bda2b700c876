"""The scenarios of a run, in order, each turned into table rows beside its baseline."""

from __future__ import annotations

import re
from collections.abc import Callable
from contextlib import nullcontext

import psycopg
import redis
from django.conf import settings
from django.db import connection

from messaging.wire import Record, encode

from . import cputime, orders, pipeline, purge, rawkafka, relay, replay, setup, telemetry, web
from .chain import scenario as chained
from .report import Row
from .stack import Stack
from .stats import summary_ms

PERCENTILES = ("p50", "p95", "p99")


def measure(
    stack: Stack, sizes, bar: Callable, only: set[str] | None = None
) -> tuple[list[Row], dict]:
    """Every scenario, or the one numbered in `only` (6, 7 or 8 can run alone)."""
    products = setup.prepare(partitions=sizes.partitions)
    stack.start_web()
    rows: list[Row] = []
    extra: dict = {"servers": _server_versions(), "completeness": {}}
    if only == {"7"}:
        _chained(stack, sizes, bar, extra)
        return chained.rows(extra), extra
    if only == {"8"}:
        return _telemetry(stack, sizes, bar, extra), extra
    if only is not None:
        if only != {"6"}:
            raise ValueError(f"only scenario 6, 7 or 8 runs alone, not {sorted(only)}")
        rows += _purge(stack, products, sizes, bar, extra)
        return rows, extra

    # 1. The BUY against a plain insert, then baseline (a): the monolith. Web server only.
    with bar("1 BUY vs insert (requests)", 2 * sizes.web_requests) as b:
        buy, insert = web.buy_against_insert(
            stack,
            products,
            requests=sizes.web_requests,
            clients=sizes.clients,
            rounds=sizes.web_rounds,
            tick=lambda s: b.update(),
        )
    rows += _latency_rows(
        "1 BUY request",
        buy.latencies(),
        insert.latencies(),
        "plain view, one INSERT",
        {"p50": 2.5, "p99": 3},
    )
    monoliths, cpu = {}, {}
    for scope in ("whole", "first"):
        chosen = web.products_for(products, sizes.monolith_orders, seed=5)
        with bar(f"2a monolith, {scope} conversation (orders)", len(chosen)) as b:
            before = cputime.snapshot(_processes(stack))
            monoliths[scope] = web.post_form(
                stack,
                chosen,
                web.monolith_path(scope),
                clients=sizes.clients,
                on_sample=lambda s: b.update(),
            )
            cpu[f"monolith, {scope} conversation"] = _per_order(
                cputime.delta(before, cputime.snapshot(_processes(stack))), len(chosen)
            )
    setup.forget_pending_outbox()
    setup.purge_task_queues()

    # 2. The pipeline: one worker per consumer group, as in the Procfile.
    stack.start_relay()
    stack.start_workers(per_group=1)
    pipeline.warm_up(stack, products, members=1, clients=sizes.clients)
    one, used = _pipeline_cpu(stack, products, sizes, bar, "2 pipeline, 1 worker per group")
    cpu["pipeline"] = _per_order(used, one.placed)
    extra["cpu_ms_per_order"] = cpu
    # A fixed rate, not a share of this run's throughput: a faster pipeline would otherwise
    # have its latency measured under a heavier load. Half the throughput on a slower machine.
    rate = min(sizes.paced_rate, one.per_second / 2)
    paced = _pipeline(
        stack,
        products,
        sizes,
        bar,
        "2 pipeline, paced",
        count=sizes.paced_orders,
        rate=rate,
    )
    extra["completeness"] |= {
        "pipeline": _completeness(one),
        "paced": _completeness(paced) | {"orders_per_second": round(rate, 2)},
    }
    # Scenarios 3 and 4 run their own relay and replay, with the shop's stopped.
    stack.stop_workers()
    stack.stop("relay")
    pipeline.wait_for_consumers(0)

    whole = monoliths["whole"]
    rows.append(
        Row(
            "2 pipeline throughput",
            "orders/s, BUY to last reaction",
            one.per_second,
            whole.per_second,
            "monolith, whole conversation",
            "orders/s",
            ">= 0.5",
            0.5,
        )
    )
    rows.append(
        Row(
            "2 CPU per order",
            "ms, every process (by type below the table)",
            sum(cpu["pipeline"].values()),
            sum(cpu["monolith, whole conversation"].values()),
            "monolith, whole conversation",
            "ms",
            "<= 60 ms",
            limit=60,
        )
    )
    rows.append(
        Row(
            "2 pipeline throughput",
            "orders/s (context)",
            one.per_second,
            monoliths["first"].per_second,
            "monolith, reactions to OrderPlaced only",
            "orders/s",
        )
    )
    # Same conditions on both sides: web server alone, the same browsers (scenario 1's BUYs).
    rows += _latency_rows(
        "2 BUY request (web alone)",
        buy.latencies(),
        whole.latencies(),
        "monolith request",
        {"p50": 1 / 3, "p99": 1 / 3},
    )
    rows += _latency_rows(
        "2 BUY during the pipeline run (context)",
        one.buy.latencies(),
        whole.latencies(),
        "monolith request",
    )
    rows += _latency_rows(
        "2 order, BUY to last reaction", one.order_latencies, whole.latencies(), "monolith request"
    )

    # Baseline (b): kafka-python alone with the pipeline's own records, blast and paced.
    messages = orders.messages_of(one.order_ids)
    blast = _raw_round_trip(messages, sizes.partitions)
    paced_messages = orders.messages_of(paced.order_ids)
    raw_paced = _raw_round_trip(
        paced_messages, sizes.partitions, rate=len(paced_messages) / paced.seconds
    )
    rows += _latency_rows(
        "2 hop, paced (outbox write to handled)",
        paced.hop_latencies,
        raw_paced.latencies,
        "kafka-python send to receipt, same rate and fetch wait",
        {"p50": 1.5},
        limits_ms={"p50": 25},
    )
    rows += _latency_rows(
        "2 hop, saturated (context)",
        one.hop_latencies,
        blast.latencies,
        "kafka-python, as fast as it goes",
    )
    rows += _latency_rows(
        "2 order, paced, BUY to confirmed (order page)",
        paced.confirmed_latencies,
        whole.latencies(),
        "monolith request (confirms within it)",
        limits_ms={"p50": 150},
    )
    rows += _latency_rows(
        "2 order, paced, BUY to last reaction",
        paced.order_latencies,
        whole.latencies(),
        "monolith request",
    )
    rows.append(
        Row(
            "2 messages through Kafka",
            "records/s",
            len(messages) / one.seconds,
            blast.per_second,
            "kafka-python produce + consume",
            "records/s",
        )
    )

    # 3. The relay against the raw producer.
    with bar("3 relay vs producer (rounds)", sizes.relay_rounds) as b:
        relayed = relay.run(messages, partitions=sizes.partitions, rounds=sizes.relay_rounds)
        b.update(sizes.relay_rounds)
    rows.append(
        Row(
            "3 outbox relay",
            "events/s",
            relayed.records / relayed.relay_seconds,
            relayed.records / relayed.raw_seconds,
            "kafka-python producer, acks=all",
            "events/s",
            ">= 0.5",
            0.5,
        )
    )

    # 4. Replay: rebuilding sales from every order event.
    with bar("4 replay sales (runs)", 1) as b:
        replayed = replay.run()
        b.update()
    rows.append(
        Row(
            "4 replay, rebuild sales",
            f"events/s ({replayed.records} read, {replayed.handled} handled)",
            replayed.records / replayed.replay_seconds,
            replayed.records / replayed.raw_seconds,
            "kafka-python consume",
            "events/s",
            ">= 0.5",
            0.5,
        )
    )

    # 7: ours beside the chain; 8: traces and metrics off and on, in turns. Each side, and
    # each turn, from a clean slate.
    _chained(stack, sizes, bar, extra)
    telemetry_rows = _telemetry(stack, sizes, bar, extra)

    # 5. Scale: the pipeline again with more workers per consumer group, from a clean slate
    # as scenario 2 began.
    workers = sizes.scale_workers
    products = setup.fresh(stack, partitions=sizes.partitions)
    stack.start_relay()
    stack.start_workers(per_group=workers)
    pipeline.warm_up(stack, products, members=workers, clients=sizes.clients)
    scaled, used = _pipeline_cpu(
        stack, products, sizes, bar, f"5 pipeline, {workers} workers per group", seed=13
    )
    cpu[f"pipeline, {workers} workers per group"] = _per_order(used, scaled.placed)
    extra["completeness"]["scale"] = _completeness(scaled)
    rows.append(
        Row(
            "5 scale",
            f"orders/s, {workers} workers per group",
            scaled.per_second,
            one.per_second,
            "1 worker per group",
            "orders/s",
        )
    )
    stack.stop_workers()
    stack.stop("relay")
    pipeline.wait_for_consumers(0)
    rows += telemetry_rows

    # 6. The BUY while the purge deletes a backlog of old rows. Web server alone again.
    rows += _purge(stack, products, sizes, bar, extra)
    rows += chained.rows(extra)
    return rows, extra


def _chained(stack, sizes, bar, extra: dict) -> None:
    """Scenario 7: ours with one worker per group, then the chain, each from a clean slate
    (its figures into `extra`, for `chained.rows`)."""
    products = setup.fresh(stack, partitions=sizes.partitions)
    stack.start_relay()
    stack.start_workers(per_group=1)
    pipeline.warm_up(stack, products, members=1, clients=sizes.clients)
    chained.ours(stack, products, sizes, bar, extra)
    products = setup.fresh(stack, partitions=sizes.partitions)
    chained.chain(stack, products, sizes, bar, extra)


def _telemetry(stack, sizes, bar, extra: dict) -> list[Row]:
    """Orders with telemetry off and on, in turns (off, on, on, off, repeated: each mode as
    late on average), each turn from a clean slate (an empty broker and empty tables) with
    every process started afresh and warmed up, so that neither mode runs on warmer
    processes, fuller tables or a fuller broker than the other.

    Each turn places its orders as fast as the window lets (orders/s, CPU, the BUY at
    saturation on the turn's web server), then `telemetry_paced_orders` at half the first
    turn's throughput; both streams are dealt in turn to the turn's web server and to a twin
    that always runs with telemetry off, so the two servers are equally warm and the paced
    stream gives the BUY in a shop that keeps up, on against off under the very same load.
    Comparing whole turns instead, the paced p50 of two turns of one mode differed by up to
    twice the 10% it judges (what else the two cores were doing at each BUY); paired, the
    off turns measure the measure (both servers off). Leaves the relay and the workers running
    (telemetry off). CPU per order by process type, and each turn's figures, go to `extra`.
    """
    runs: dict[str, list] = {"off": [], "on": []}
    # The paced BUYs of each mode's turns, by server: the turn's own, and its twin (off).
    paced: dict[str, dict[str, list[float]]] = {
        label: {"web": [], "twin": []} for label in ("off", "on")
    }
    saturated: dict[str, list[float]] = {"off": [], "on": []}  # the turn's web server's BUYs
    cpu: dict[str, dict[str, float]] = {"off": {}, "on": {}}
    turns, rate = [], None
    with telemetry.collector() as collector:
        for turn in range(sizes.telemetry_turns):
            label = ("off", "on", "on", "off")[turn % 4]
            products = setup.fresh(stack, partitions=sizes.partitions, web=False)
            twin = stack.start_web(name="web-twin")  # before telemetry_on: always off
            with telemetry.telemetry_on(stack, collector) if label == "on" else nullcontext():
                stack.start_web()
                stack.start_relay()
                stack.start_workers(per_group=1)
                # Which server takes the even BUYs changes every turn, so neither slot of
                # the stream is the web server's in one mode and the twin's in the other.
                both = (stack.port, twin) if turn % 2 == 0 else (twin, stack.port)
                pipeline.warm_up(stack, products, members=1, clients=sizes.clients, ports=both)
                count = max(sizes.telemetry_orders * 2 // sizes.telemetry_turns, 1)
                # The saturated orders go to both servers as well, so each has done the same
                # work when the paced stream begins: with all of them on the web server, its
                # slot of the stream was the faster one even with both off (0.90 to 0.97).
                run, used = _pipeline_cpu(
                    stack, products, sizes, bar, f"8 telemetry {label}", count=count, ports=both
                )
                rate = rate or run.per_second / 2
                slow = _pipeline(
                    stack,
                    products,
                    sizes,
                    bar,
                    f"8 telemetry {label}, paced",
                    count=sizes.telemetry_paced_orders,
                    rate=rate,
                    seed=31 + turn,
                    ports=both,
                )
            runs[label].append(run)
            web_slot, twin_slot = both.index(stack.port), both.index(twin)
            buys = run.buy.latencies()[web_slot::2]
            saturated[label] += buys
            latencies = slow.buy.latencies()
            ours, twins = latencies[web_slot::2], latencies[twin_slot::2]
            paced[label]["web"] += ours
            paced[label]["twin"] += twins
            for kind, seconds in used.items():
                cpu[label][kind] = cpu[label].get(kind, 0.0) + seconds
            turns.append(
                {
                    "telemetry": label,
                    "orders_per_second": round(run.per_second, 2),
                    "buy_p50_ms": round(summary_ms(buys)["p50"], 2),
                    "paced_buy_p50_ms": round(summary_ms(ours)["p50"], 2),
                    "paced_twin_p50_ms": round(summary_ms(twins)["p50"], 2),
                }
            )
    stack.stop("web", "web-twin")
    stack.start_web()
    for label in cpu:
        orders = sum(r.placed for r in runs[label])
        extra.setdefault("cpu_ms_per_order", {})[f"telemetry {label}"] = _per_order(
            cpu[label], orders
        )
    extra["telemetry"] = {"paced_rate": round(rate, 2), "turns": turns}

    def per_second(label: str) -> float:
        return sum(r.orders for r in runs[label]) / sum(r.seconds for r in runs[label])

    def saturated_p50(label: str) -> float:
        return summary_ms(saturated[label])["p50"]

    def paced_p50(label: str, server: str) -> float:
        return summary_ms(paced[label][server])["p50"]

    def paired(label: str) -> float:
        return paced_p50(label, "web") / paced_p50(label, "twin")

    both = "traces (OTLP) and metrics (scraped every 5 s)"
    paced_at = f"BUY p50 at {rate:.1f} orders/s (half the throughput)"
    return [
        Row(
            "8 telemetry cost",
            f"orders/s, {both} on",
            per_second("on"),
            per_second("off"),
            "telemetry off (the default)",
            "orders/s",
            ">= 0.9",
            0.9,
        ),
        Row(
            "8 telemetry cost",
            f"{paced_at}: the web server over its twin with telemetry off, {both} on in the "
            "on turns, against the same in the off turns (where the two differ only by the "
            "server itself)",
            paired("on"),
            paired("off"),
            "the same pairing, both off",
            "x",
            "<= 1.1",
            1.1,
        ),
        Row(
            "8 telemetry cost",
            f"{paced_at}, {both} on, BUYs dealt in turn to it and to a twin with it off "
            "(context: the on turns' pairing alone)",
            paced_p50("on", "web"),
            paced_p50("on", "twin"),
            "the twin: telemetry off, same stream",
            "ms",
        ),
        Row(
            "8 telemetry cost",
            f"{paced_at}, the same pairing in the off turns (context: both servers off)",
            paced_p50("off", "web"),
            paced_p50("off", "twin"),
            "the twin: telemetry off, same stream",
            "ms",
        ),
        Row(
            "8 telemetry cost",
            f"{paced_at}, whole on turns against whole off turns (context: between turns)",
            paced_p50("on", "web"),
            paced_p50("off", "web"),
            "telemetry off (the default)",
            "ms",
        ),
        Row(
            "8 telemetry cost",
            f"BUY p50 at saturation (context: CPU queueing), {both} on",
            saturated_p50("on"),
            saturated_p50("off"),
            "telemetry off (the default)",
            "ms",
        ),
    ]


def _purge(stack, products, sizes, bar, extra: dict) -> list[Row]:
    with bar("6 BUY during a purge (requests)", None) as b:
        run = purge.run(
            stack,
            products,
            rows=sizes.purge_rows,
            requests=sizes.web_requests,
            clients=sizes.clients,
            rate=sizes.purge_rate,
            tick=lambda s: b.update(),
        )
    extra["purge"] = {
        "inserted": run.inserted,
        "insert_seconds": round(run.insert_seconds, 1),
        "purge_seconds": round(run.purge_seconds, 1),
        "deleted": run.deleted,
        "rows_per_second": round(run.rows_per_second),
        "tables": run.per_table,
        "buy_rate": sizes.purge_rate,
    }
    return _latency_rows(
        "6 BUY during a purge",
        run.during.latencies(),
        run.baseline,
        f"BUY without a purge, same rate ({sizes.purge_rate:g}/s)",
        {"p99": 1.5},
    )


def _pipeline(
    stack,
    products,
    sizes,
    bar,
    description,
    *,
    count=None,
    rate=None,
    seed=11,
    on_handled=lambda: None,
    ports=(),
):
    window = None if rate else sizes.window
    count = count or sizes.pipeline_orders
    with bar(f"{description}: BUY", count) as buys, bar(f"{description}: done", count) as done:

        def finished(n: int) -> None:
            done.update(n - done.n)

        return pipeline.run(
            stack,
            products,
            count=count,
            clients=sizes.clients,
            rate=rate,
            timeout=sizes.timeout,
            on_buy=lambda s: buys.update(),
            on_done=finished,
            window=window,
            strict=sizes.quick,
            seed=seed,
            on_handled=on_handled,
            ports=ports,
        )


def _pipeline_cpu(stack, *args, **kwargs) -> tuple[pipeline.PipelineRun, dict[str, float]]:
    """A pipeline run (`_pipeline`'s arguments) and the CPU seconds each process type used
    from its first BUY until every order was handled: the harness reading the results
    afterwards is not the shop's work."""
    before = cputime.snapshot(_processes(stack))
    handled: dict = {}

    def measure() -> None:
        handled["at"] = cputime.snapshot(_processes(stack))

    run = _pipeline(stack, *args, on_handled=measure, **kwargs)
    return run, cputime.delta(before, handled["at"])


def _processes(stack: Stack) -> dict[int, str]:
    """Each running process's pid -> its Procfile type (worker-sales-1 -> worker-sales)."""
    return {s.popen.pid: re.sub(r"-\d+$", "", name) for name, s in stack.processes.items()}


def _per_order(seconds: dict[str, float], orders: int) -> dict[str, float]:
    """CPU seconds per process type -> milliseconds per order, busiest first."""
    ms = {kind: round(1000 * used / orders, 2) for kind, used in seconds.items() if used > 0}
    return dict(sorted(ms.items(), key=lambda item: -item[1]))


def _completeness(run) -> dict:
    return {
        "placed": run.placed,
        "handled": run.handled,
        "lost_to_dead_letters": run.lost,
        "dead_letters": run.dead_letters,
    }


def _raw_round_trip(messages, partitions: int, *, rate: float | None = None):
    topic = rawkafka.new_topic("bench-raw", partitions)
    records = [
        Record(topic, r.key, r.value, r.headers)
        for r in (encode(m.topic, m.metadata(), m.payload) for m in messages)
    ]
    return rawkafka.round_trip(topic, records, rate=rate)


def _latency_rows(
    scenario: str,
    figure: list[float],
    baseline: list[float],
    baseline_name: str,
    goals: dict[str, float] | None = None,
    *,
    limits_ms: dict[str, float] | None = None,
) -> list[Row]:
    """p50/p95/p99 rows; `goals` maps a percentile to its largest allowed ratio, `limits_ms`
    to its largest allowed figure."""
    ours, theirs = summary_ms(figure), summary_ms(baseline)
    goals, limits_ms = goals or {}, limits_ms or {}
    return [
        Row(
            scenario,
            f"{p} latency (n={ours['n']} / {theirs['n']})",
            ours[p],
            theirs[p],
            baseline_name,
            "ms",
            _target(goals.get(p), limits_ms.get(p)),
            goals.get(p),
            limits_ms.get(p),
        )
        for p in PERCENTILES
    ]


def _target(goal: float | None, limit_ms: float | None) -> str:
    said = [f"<= {goal:.3g}" if goal is not None else "", f"<= {limit_ms:g} ms" if limit_ms else ""]
    return ", ".join(s for s in said if s)


def _server_versions() -> dict[str, str]:
    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        postgres = cursor.fetchone()[0]
    info = redis.Redis.from_url(settings.CELERY_BROKER_URL).info("server")
    return {
        "PostgreSQL": postgres,
        "Redis": info.get("redis_version", "?"),
        "psycopg (libpq)": str(psycopg.pq.version()),
    }
