"""Kafka consumers inside Celery workers, and the heartbeats of Celery's processes.

`celery -A config worker --consumers=warehouse` starts, next to the worker's task pool,
one thread per named consumer group (all registered groups when the option is absent).
Celery owns the process: start-up, logging, signals and shutdown; Kafka's group protocol
spreads partitions over every worker that runs the same group.

Every worker beats for itself and for each of its consumer group members, and
`celery beat` for the scheduler (messaging.heartbeats).
"""

import atexit
import logging
import threading

from celery import Celery, bootsteps
from celery.signals import beat_init, task_postrun, task_prerun
from click import Option

logger = logging.getLogger(__name__)


class Heartbeats(bootsteps.StartStopStep):
    """The worker's heart: its own beat, and its consumer loops' (parent.heart)."""

    def start(self, parent) -> None:
        from .heartbeats import Heart
        from .models import Heartbeat

        parent.heart = Heart()
        parent.heart.pulse(Heartbeat.Kind.WORKER, parent.hostname, by_heart=True)
        parent.heart.start()

    def stop(self, parent) -> None:
        parent.heart.stop()


class Metrics(bootsteps.StartStopStep):
    """The worker's counters on METRICS_PORT, when set (messaging.metrics)."""

    def start(self, parent) -> None:
        from .metrics import serve

        serve()


class KafkaConsumers(bootsteps.StartStopStep):
    # After the pool, so no consumer thread or socket exists when pool processes fork.
    requires = {"celery.worker.components:Pool", Heartbeats}

    def __init__(self, parent, consumers: str | None = None, **options) -> None:
        super().__init__(parent, **options)
        self.names = [n.strip() for n in consumers.split(",") if n.strip()] if consumers else None
        self.stop_event = threading.Event()
        self.threads: list[threading.Thread] = []

    def start(self, parent) -> None:
        from .consumer import ConsumerLoop
        from .models import Heartbeat
        from .registry import group, groups

        names = self.names if self.names is not None else sorted(groups())
        for name in names:
            pulse = parent.heart.pulse(Heartbeat.Kind.CONSUMER, name)
            loop = ConsumerLoop(group(name), self.stop_event, pulse)
            thread = threading.Thread(target=loop.run, name=f"kafka-{name}", daemon=True)
            thread.start()
            self.threads.append(thread)
        logger.info("Kafka consumer groups running: %s", ", ".join(names))

    def stop(self, parent) -> None:
        self.stop_event.set()
        for thread in self.threads:
            thread.join(timeout=10)


def _scheduler_beats(sender, **kwargs) -> None:
    from .heartbeats import Heart
    from .models import Heartbeat

    heart = Heart()
    heart.pulse(Heartbeat.Kind.SCHEDULER, "scheduler", by_heart=True)
    heart.start()
    # Celery beat sends no signal when it stops; it exits through SystemExit.
    atexit.register(heart.stop)


def install(app: Celery) -> None:
    app.user_options["worker"].add(
        Option(
            ["--consumers"],
            default=None,
            help="Comma-separated Kafka consumer groups to run (default: all).",
        )
    )
    app.steps["worker"].add(Heartbeats)
    app.steps["worker"].add(Metrics)
    app.steps["worker"].add(KafkaConsumers)
    beat_init.connect(_scheduler_beats, weak=False)
    # Around each task as around each request: a connection kept for DATABASE_CONN_MAX_AGE,
    # and one left unusable by the last task (the database restarted) replaced.
    task_prerun.connect(_close_old_connections, weak=False)
    task_postrun.connect(_close_old_connections, weak=False)


def _close_old_connections(sender=None, **kwargs) -> None:
    from django.db import close_old_connections

    if getattr(getattr(sender, "request", None), "is_eager", False):
        return  # run in its caller's thread, maybe inside the caller's transaction
    close_old_connections()
