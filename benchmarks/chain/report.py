"""The generated part of docs/why-events.md: one run's figures for both designs.

Only the block between the markers is replaced; the comparison's prose is hand-written.
"""

from __future__ import annotations

import re
from pathlib import Path

from .figures import Stop, Throughput

BEGIN = "<!-- chain:begin (written by `make bench` and `python -m benchmarks --only 7`) -->"
END = "<!-- chain:end -->"


def markdown(data: dict) -> str:
    c, m = data["chain"], data["machine"]
    ours, chain, mono = (Throughput(**c[k]["throughput"]) for k in ("ours", "chain", "monolith"))
    s_ours, s_chain = Stop(**c["ours"]["stop"]), Stop(**c["chain"]["stop"])
    b = c["buy"]
    lines = [
        BEGIN,
        "",
        f"Run of {data['started']} UTC ({data['seconds']:.0f} s in all"
        + (", quick mode: sizes too small to mean anything" if data["parameters"]["quick"] else "")
        + f"). Machine: {m['cpu'] or '?'}, {m['cores']} cores, {m['memory']}; load average at"
        f" the end {', '.join(map(str, m['load_average']))} (1, 5, 15 min; the run's own"
        " processes count in it). Sizes: "
        + ", ".join(f"{k} {v}" for k, v in c["sizes"].items())
        + ".",
        "",
        "| figure | ours (events) | the chain (commands) |",
        "|---|---:|---:|",
        f"| BUY p50, web server alone (n={b['ours']['n']} each) | {_ms(b['ours']['p50'])} "
        f"| {_ms(b['chain']['p50'])} |",
        f"| BUY p95 | {_ms(b['ours']['p95'])} | {_ms(b['chain']['p95'])} |",
        f"| BUY p99 | {_ms(b['ours']['p99'])} | {_ms(b['chain']['p99'])} |",
        f"| orders/s, BUY to last reaction ({ours.orders} orders, at most "
        f"{c['sizes']['window']} in flight) | {ours.per_second:.1f} | {chain.per_second:.1f} |",
        f"| CPU per order, every process but the browsers | {ours.cpu_ms_per_order():.0f} ms "
        f"| {chain.cpu_ms_per_order():.0f} ms |",
        f"| ... of which loyalty's worker (the chain has no loyalty) "
        f"| {1000 * ours.cpu.get('worker-loyalty', 0) / ours.orders:.0f} ms | — |",
        f"| notifications worker stopped for | {s_ours.seconds:.0f} s | {s_chain.seconds:.0f} s |",
        f"| ... BUYs sent at {c['sizes']['stop_rate']:g}/s, accepted | {s_ours.buys_accepted} of "
        f"{s_ours.buys_sent} ({s_ours.accepted_per_second:.1f}/s) | {s_chain.buys_accepted} of "
        f"{s_chain.buys_sent} ({s_chain.accepted_per_second:.1f}/s) |",
        f"| ... of those orders, dispatched by the restart | {s_ours.dispatched} "
        f"| {s_chain.dispatched} |",
        f"| ... counted by sales by the restart | {s_ours.sales} | {s_chain.sales} |",
        f"| ... emails sent by the restart | {s_ours.emails} | {s_chain.emails} |",
        f"| ... after the restart: first email, last email | {s_ours.first_email_after:.1f} s, "
        f"{s_ours.caught_up_after:.1f} s | {s_chain.first_email_after:.1f} s, "
        f"{s_chain.caught_up_after:.1f} s |",
    ]
    lo = c["loyalty"]
    if lo["ours"] is None:
        said = "not yet added (no commit adds loyalty/apps.py)"
        lines.append(
            f"| adding loyalty: files that existed before, changed | {said} "
            f"| {_tally(lo['chain']['outside'])} |"
        )
    else:
        lines.append(
            f"| adding loyalty: files that existed before, changed "
            f"| {_tally(lo['ours']['outside'])} | {_tally(lo['chain']['outside'])} |"
        )
    senders = "—" if lo["ours"] is None else _tally(lo["ours"]["senders"])
    lines.append(
        f"| ... of which the other services' Python | {senders} "
        f"| {_tally(lo['chain']['senders'])} |"
    )
    lines += [
        "",
        f"The monolith (`benchmarks/monolith.py`, the whole conversation in one request) on "
        f"{mono.orders} orders: {mono.per_second:.1f} orders/s, "
        f"{mono.cpu_ms_per_order():.0f} ms of CPU per order.",
        "",
        "CPU seconds per process type during each throughput run:",
        "",
        "| process type | ours | the chain | monolith |",
        "|---|---:|---:|---:|",
    ]
    kinds = sorted(set(ours.cpu) | set(chain.cpu) | set(mono.cpu))
    for kind in kinds:
        lines.append(
            f"| {kind} | {_s(ours.cpu.get(kind))} | {_s(chain.cpu.get(kind))} "
            f"| {_s(mono.cpu.get(kind))} |"
        )
    if lo["ours"] is not None:
        files = ", ".join(f"`{p}` {n}" for p, n in lo["ours"]["files"].items())
        lines += [
            "",
            f"Ours: commit {lo['ours']['commit']} changed these files that existed before: "
            f"{files}.",
        ]
    files = ", ".join(f"`{p}` {n}" for p, n in lo["chain"]["files"].items())
    lines += [
        "",
        f"The chain: `{lo['chain']['patch']}` changes these files that existed before: {files}.",
        "",
        END,
    ]
    return "\n".join(lines)


def update_doc(doc: Path, data: dict) -> None:
    block = markdown(data)
    text = doc.read_text()
    pattern = re.compile(re.escape(BEGIN) + ".*?" + re.escape(END), re.DOTALL)
    doc.write_text(pattern.sub(lambda _: block, text) if pattern.search(text) else text + block)


def _ms(value: float) -> str:
    return f"{value:,.0f} ms" if value >= 100 else f"{value:.1f} ms"


def _s(value: float | None) -> str:
    return "—" if value is None else f"{value:.1f} s"


def _tally(t: dict) -> str:
    return f"{t['files']} files, {t['lines']} lines"


def main(argv: list[str] | None = None) -> int:
    """`python -m benchmarks.chain.report <results.json>`: write that run's block again, with
    the loyalty counts of now (ours is counted once the commit that adds loyalty exists)."""
    import argparse
    import json

    parser = argparse.ArgumentParser(prog="python -m benchmarks.chain.report")
    parser.add_argument("results", type=Path)
    args = parser.parse_args(argv)
    from . import loyalty

    data = json.loads(args.results.read_text())
    data["chain"]["loyalty"] = loyalty.count()
    update_doc(Path(__file__).resolve().parents[2] / "docs" / "why-events.md", data)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
