"""The platform's health as an operator checks it: processes, outbox backlog, consumer lag,
bad records."""

from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db.models import Count, Max, Min
from django.utils import timezone

from messaging import liveness
from messaging.kafka import bootstrap_servers
from messaging.models import DeadLetter, HandlingFailure, OutboxMessage

from . import lag

# The processes table lists the runtime's parts in the order a record meets them.
KIND_ORDER = ["relay", "consumer", "worker", "scheduler"]


@dataclass(frozen=True)
class ProcessRow:
    process: liveness.Process
    summary: str  # its details in a line
    # A stale process's successor: a live one of the same kind and name on its host (a
    # worker the supervisor or the container engine restarted).
    replaced_by: int | None = None


@dataclass(frozen=True)
class ProcessReport:
    rows: list[ProcessRow]
    problems: list[str]  # what readiness fails on: no leading relay, a group without members
    stale_after: timedelta

    @property
    def stale(self) -> int:
        return sum(row.process.stale for row in self.rows)

    @property
    def alive(self) -> int:
        return len(self.rows) - self.stale

    @property
    def interval(self) -> timedelta:
        return self.stale_after / liveness.STALE_AFTER_INTERVALS


def process_report() -> ProcessReport:
    """Every process's last heartbeat, live ones first within each kind."""
    processes = sorted(
        liveness.processes(),
        key=lambda p: (KIND_ORDER.index(p.kind), p.name, p.stale, p.host, p.pid),
    )
    live = {(p.host, p.kind, p.name): p.pid for p in processes if not p.stale}
    rows = [
        ProcessRow(p, describe(p.details), live.get((p.host, p.kind, p.name)) if p.stale else None)
        for p in processes
    ]
    return ProcessReport(rows, liveness.problems(), liveness.stale_after())


def describe(details: dict) -> str:
    """A heartbeat's details in a line: partitions, lag, messages published, the last error."""
    parts = []
    if "partitions" in details:
        parts.append(partition_ranges(details["partitions"]) or "no partitions")
    if details.get("lag") is not None:
        parts.append(f"{details['lag']} behind")
    if "published" in details:
        parts.append(f"{details['published']} published")
    if details.get("error"):
        parts.append(details["error"])
    return "; ".join(parts)


def partition_ranges(partitions: list[str]) -> str:
    """Partition names ("orders[0]") as one entry per topic, consecutive numbers as a run."""
    by_topic: dict[str, list[int]] = {}
    for name in partitions:
        topic, _, number = name.rstrip("]").rpartition("[")
        by_topic.setdefault(topic, []).append(int(number))
    return ", ".join(f"{topic} {_ranges(sorted(ns))}" for topic, ns in by_topic.items())


def _ranges(numbers: list[int]) -> str:
    runs: list[list[int]] = []
    for n in numbers:
        if runs and n == runs[-1][-1] + 1:
            runs[-1].append(n)
        else:
            runs.append([n])
    return ", ".join(f"{r[0]}–{r[-1]}" if len(r) > 1 else f"{r[0]}" for r in runs)


@dataclass(frozen=True)
class Backlog:
    pending: int
    oldest: datetime | None
    refused: int = 0  # refused by Kafka for good: an operator publishes again or skips

    @property
    def age(self) -> timedelta | None:
        return timezone.now() - self.oldest if self.oldest else None


def outbox_backlog() -> Backlog:
    """Rows the relay has not published yet (read through the partial index on pending rows)."""
    pending = OutboxMessage.objects.pending().aggregate(n=Count("id"), oldest=Min("time"))
    return Backlog(pending["n"], pending["oldest"], OutboxMessage.objects.refused().count())


@dataclass(frozen=True)
class LagCell:
    partition: int
    committed: int | None
    end: int

    @property
    def behind(self) -> int:
        # Never negative: Tansu 0.6 sometimes reports an end offset one short of the
        # offset a group has committed.
        return max(self.end - (self.committed or 0), 0)


@dataclass(frozen=True)
class LagRow:
    """One consumer group on one topic, partition by partition."""

    group: str
    topic: str
    cells: list[LagCell]

    @property
    def behind(self) -> int:
        return sum(cell.behind for cell in self.cells)


@dataclass(frozen=True)
class LagReport:
    partitions: list[lag.PartitionLag] = field(default_factory=list)
    error: str = ""

    @property
    def rows(self) -> list[LagRow]:
        rows: dict[tuple[str, str], LagRow] = {}
        for p in self.partitions:
            row = rows.setdefault((p.group, p.topic), LagRow(p.group, p.topic, []))
            row.cells.append(LagCell(p.partition, p.committed, p.end))
        return list(rows.values())

    @property
    def partition_numbers(self) -> list[int]:
        """The table's columns: as many as the topic with the most partitions has."""
        return list(range(max((len(row.cells) for row in self.rows), default=0)))

    @property
    def by_group(self) -> dict[str, int]:
        totals: dict[str, int] = {}
        for row in self.rows:
            totals[row.group] = totals.get(row.group, 0) + row.behind
        return totals


# One thread asks Kafka: a client keeps retrying an unreachable broker for half a minute,
# and the page must answer within seconds. A stuck call occupies only this one thread.
_KAFKA = ThreadPoolExecutor(max_workers=1, thread_name_prefix="operations-lag")


def lag_report(*, deadline: float = 4.0) -> LagReport:
    """Lag per group and partition, or why it cannot be known right now."""
    try:
        future = _KAFKA.submit(lag.consumer_lag, timeout_ms=int(deadline * 750))
        return LagReport(future.result(timeout=deadline))
    except FutureTimeout:
        error = f"no answer within {deadline:.0f} s"
    # The page reports the broker's state: whatever the client raises (no broker, a
    # refused connection, a group coordinator not ready) means the lag is unknown for now.
    except Exception as exc:
        error = str(exc)  # kafka-python's errors name their class already
        if not error.startswith(type(exc).__name__):
            error = f"{type(exc).__name__}: {error}"
    return LagReport(error=f"Kafka at {', '.join(bootstrap_servers())}: {error}.")


# The operations page lists this many of the newest dead letters.
LATEST_DEAD_LETTERS = 10


@dataclass(frozen=True)
class BadRecords:
    by_group_and_reason: list[dict]
    latest: list[DeadLetter]
    failures_by_group: list[dict]  # failed handling attempts in the last day


def bad_records() -> BadRecords:
    since = timezone.now() - timedelta(days=1)
    return BadRecords(
        by_group_and_reason=[
            row | {"reason_label": DeadLetter.Reason(row["reason"]).label}
            for row in DeadLetter.objects.values("group", "reason")
            .annotate(records=Count("id"), last=Max("created_at"))
            .order_by("group", "reason")
        ],
        latest=list(DeadLetter.objects.order_by("-created_at")[:LATEST_DEAD_LETTERS]),
        failures_by_group=list(
            HandlingFailure.objects.filter(failed_at__gte=since)
            .values("group")
            .annotate(attempts=Count("id"), messages=Count("message_id", distinct=True))
            .order_by("group")
        ),
    )
