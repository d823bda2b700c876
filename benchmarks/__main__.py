"""`python -m benchmarks [--quick]`: run every scenario, write the JSON and the table.

Quick mode (`--quick` or BENCH_QUICK=1) uses tiny sizes to keep the harness working in CI:
it fails if any order goes unhandled and writes nothing into docs/.
"""

import argparse
import dataclasses
import os
import sys
from pathlib import Path

from benchmarks import runner

ROOT = Path(__file__).resolve().parent.parent


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument(
        "--quick", action="store_true", default=os.environ.get("BENCH_QUICK") == "1"
    )
    parser.add_argument("--output", type=Path, default=ROOT / "bench-results")
    parser.add_argument(
        "--only",
        help="run only this scenario (6, 7 or 8 run alone): the results "
        "go to bench-results/, never into docs/ (7 also rewrites docs/why-events.md's table)",
    )
    parser.add_argument(
        "--scale-workers",
        type=int,
        choices=(1, 2, 4),
        default=2,
        help="workers per consumer group in scenario 5 (default 2); on a machine with more "
        "cores, 4 shows how far the partitions (4 per topic) take the pipeline",
    )
    args = parser.parse_args(argv)
    only = set(args.only.split(",")) if args.only else None
    sizes = runner.QUICK if args.quick else runner.FULL
    sizes = dataclasses.replace(sizes, scale_workers=args.scale_workers)

    data = runner.run(sizes, only)

    from benchmarks import report

    stamp = data["started"].replace(":", "").replace("-", "")
    mode = ("quick-" if args.quick else "") + (f"only-{'-'.join(sorted(only))}-" if only else "")
    name = f"bench-{mode}{stamp}.json"
    report.write_json(args.output / name, data)
    report.write_json(args.output / "latest.json", data)
    if not args.quick and not only:
        report.write_json(ROOT / "docs" / "benchmarks.json", data)
        report.update_doc(ROOT / "docs" / "benchmarks.md", data)
    if "chain" in data and not args.quick:
        from benchmarks.chain import report as chain_report

        chain_report.update_doc(ROOT / "docs" / "why-events.md", data)
    print(report.markdown(data))
    print(f"\nresults: {args.output / name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
