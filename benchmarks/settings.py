"""The shop's settings plus the benchmark's baseline views (benchmarks.urls), nothing else.

The web server of a benchmark runs with these, so the BUY and its baselines are served by
the very same processes, middleware and database connections.
"""

from config.settings import *  # noqa: F403

ROOT_URLCONF = "benchmarks.urls"
