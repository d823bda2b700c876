"""Celery tasks: the delayed and periodic work of shipping."""

import uuid

from celery import shared_task

from . import services


@shared_task(name="warehouse.ship")
def ship(order_id: str) -> None:
    services.dispatch_ship(order_id=uuid.UUID(order_id))


@shared_task(name="warehouse.ship_due")
def ship_due() -> int:
    due = services.reservations_due()
    for order_id in due:
        services.dispatch_ship(order_id=order_id)
    return len(due)
