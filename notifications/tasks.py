"""Celery tasks: thin entrypoints that take ids and call a service."""

from celery import shared_task

from . import services


@shared_task(name="notifications.deliver", bind=True, max_retries=8)
def deliver(self, notification_id: int) -> None:
    try:
        services.notification_deliver(notification_id=notification_id)
    # A mail server or gateway can fail in many ways; each is worth another try later.
    except Exception as exc:
        raise self.retry(exc=exc, countdown=min(2**self.request.retries, 300)) from exc


@shared_task(name="notifications.deliver_stuck")
def deliver_stuck() -> int:
    ids = services.notifications_stuck()
    for notification_id in ids:
        deliver.delay(notification_id)
    return len(ids)
