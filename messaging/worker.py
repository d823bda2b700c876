"""Kafka consumers inside Celery workers.

`celery -A config worker --consumers=warehouse` starts, next to the worker's task pool,
one thread per named consumer group (all registered groups when the option is absent).
Celery owns the process: start-up, logging, signals and shutdown; Kafka's group protocol
spreads partitions over every worker that runs the same group.
"""

import logging
import threading

from celery import Celery, bootsteps
from click import Option

logger = logging.getLogger(__name__)


class KafkaConsumers(bootsteps.StartStopStep):
    # After the pool, so no consumer thread or socket exists when pool processes fork.
    requires = {"celery.worker.components:Pool"}

    def __init__(self, parent, consumers: str | None = None, **options) -> None:
        super().__init__(parent, **options)
        self.names = [n.strip() for n in consumers.split(",") if n.strip()] if consumers else None
        self.stop_event = threading.Event()
        self.threads: list[threading.Thread] = []

    def start(self, parent) -> None:
        from .consumer import ConsumerLoop
        from .registry import group, groups

        names = self.names if self.names is not None else sorted(groups())
        for name in names:
            loop = ConsumerLoop(group(name), self.stop_event)
            thread = threading.Thread(target=loop.run, name=f"kafka-{name}", daemon=True)
            thread.start()
            self.threads.append(thread)
        logger.info("Kafka consumer groups running: %s", ", ".join(names))

    def stop(self, parent) -> None:
        self.stop_event.set()
        for thread in self.threads:
            thread.join(timeout=10)


def install(app: Celery) -> None:
    app.user_options["worker"].add(
        Option(
            ["--consumers"],
            default=None,
            help="Comma-separated Kafka consumer groups to run (default: all).",
        )
    )
    app.steps["worker"].add(KafkaConsumers)
