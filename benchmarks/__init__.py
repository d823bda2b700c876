"""`make bench`: the shop against real servers, each figure beside a baseline from the same run.

Every scenario lives in its own module; `python -m benchmarks` runs them in order
(`benchmarks.runner`), and `benchmarks.report` writes the JSON and docs/benchmarks.md.
"""
