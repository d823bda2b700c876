"""Health endpoints for orchestrators: liveness (the process answers) and readiness.

Readiness checks every server the shop depends on, that consumers keep up (a consumer
group lagging more than HEALTH_MAX_CONSUMER_LAG records makes it not ready), and that the
runtime's processes are alive: a relay leads and every consumer group has a live member,
by their heartbeats (messaging.liveness).
"""

import concurrent.futures
import os
import time

from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.views.decorators.http import require_GET

from messagelog import lag
from messaging import liveness

MAX_LAG = int(os.environ.get("HEALTH_MAX_CONSUMER_LAG", "1000"))
_PROBES = concurrent.futures.ThreadPoolExecutor(max_workers=2, thread_name_prefix="health")


@require_GET
def live(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"status": "ok"})


@require_GET
def ready(request: HttpRequest) -> JsonResponse:
    checks = {name: _timed(check) for name, check in CHECKS.items()}
    ok = all(result["ok"] for result in checks.values())
    return JsonResponse(
        {"status": "ok" if ok else "unavailable", "checks": checks}, status=200 if ok else 503
    )


def _timed(check) -> dict:
    started = time.monotonic()
    try:
        detail = check()
        ok = True
    # A readiness probe reports every failure as "not ready"; it must never raise.
    except Exception as exc:
        detail, ok = f"{type(exc).__name__}: {exc}", False
    return {"ok": ok, "detail": detail, "ms": round((time.monotonic() - started) * 1000, 1)}


def _postgres() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return "reachable"


def _redis() -> str:
    from config.celery import app

    with app.connection_for_write() as conn:
        conn.ensure_connection(max_retries=1, timeout=2)
    return "reachable"


def _kafka_and_lag() -> dict:
    # A Kafka client keeps retrying an unreachable bootstrap server for a long time; a
    # probe must answer within seconds, so the check runs with a deadline of its own.
    try:
        by_group = _PROBES.submit(lag.total_lag_by_group, timeout_ms=2000).result(timeout=3)
    except concurrent.futures.TimeoutError:
        raise TimeoutError("no answer from Kafka within 3 s") from None
    behind = {group: n for group, n in by_group.items() if n > MAX_LAG}
    if behind:
        raise RuntimeError(f"consumer lag above {MAX_LAG}: {behind}")
    return by_group


def _processes() -> dict:
    problems = liveness.problems()
    if problems:
        raise RuntimeError("; ".join(problems))
    return liveness.summary()


CHECKS = {"postgres": _postgres, "redis": _redis, "kafka": _kafka_and_lag, "processes": _processes}
