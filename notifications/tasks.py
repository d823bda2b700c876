"""Celery tasks: thin entrypoints that take ids and call a service."""

from celery import shared_task

from . import delivery


# No Celery retries: a failed attempt schedules the next itself, from the row
# (notifications.delivery), and the sweep below finds any task that was lost.
# `traces` is sent only when traces are on. A worker older than it fails such a task
# (TypeError): during a rolling upgrade its notifications wait for the sweep, about
# OVERDUE_SECONDS, until every worker runs this version.
@shared_task(name="notifications.deliver")
def deliver(notification_ids: list[int] | int, traces: dict | None = None) -> None:
    # A single id: a task queued before deliveries went in pairs.
    ids = [notification_ids] if isinstance(notification_ids, int) else notification_ids
    delivery.notifications_deliver(ids=ids, traces=traces)


@shared_task(name="notifications.deliver_stuck")
def deliver_stuck() -> int:
    return len(delivery.notifications_stuck())
