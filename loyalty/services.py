"""Loyalty points: awarded for each placed order, taken back when it is cancelled.

Each order has one award, keyed by the order: handling the same fact again (a redelivery,
a replay of the topic, a rebuild) finds it and changes nothing, so points are idempotent by
loyalty's own state, not only by the inbox, which forgets long before the topic does.

A cancellation can be handled before its placement: the placement was dead-lettered and
skipped, or a replay started after it. It is then remembered as a cancelled award without
a placement, and the placement, if it ever comes, is recorded as already taken back: the
balance comes out as if the two had arrived in order.
"""

import logging
import uuid
from datetime import datetime
from decimal import Decimal

from django.db import transaction

from . import rules
from .models import Award, ErasedOrder

logger = logging.getLogger(__name__)


def _owner(email: str) -> str:
    # Lower-cased: the account and the order form may spell the same address differently.
    return email.strip().lower()


@transaction.atomic
def points_award(
    *, order_id: uuid.UUID, email: str, total: Decimal, currency: str, placed_at: datetime
) -> Award | None:
    """OrderPlaced: the order's points, for the customer who ordered. None if awarded before."""
    if ErasedOrder.objects.filter(order_id=order_id).exists():
        email = ""  # an old OrderPlaced read again after its customer was erased
    placement = {
        "email": _owner(email),
        "points": rules.points_for(amount=total, currency=currency),
        "total": total,
        "currency": currency,
        "placed_at": placed_at,
    }
    award, created = Award.objects.select_for_update().get_or_create(
        order_id=order_id, defaults=placement
    )
    if created:
        return award
    if award.placed_at is not None:
        return None  # awarded before: a fact is not counted twice
    logger.info("loyalty: order %s was cancelled before it was placed here", order_id)
    for name, value in placement.items():
        setattr(award, name, value)
    award.save()
    return award


@transaction.atomic
def points_take_back(*, order_id: uuid.UUID) -> Award:
    """OrderCancelled: the order's points no longer count (once)."""
    award, created = Award.objects.select_for_update().get_or_create(
        order_id=order_id, defaults={"cancelled": True}
    )
    if not created and not award.cancelled:
        award.cancelled = True
        award.save(update_fields=["cancelled", "updated_at"])
    return award


@transaction.atomic
def customer_erase(*, order_id: uuid.UUID) -> None:
    """CustomerErased: the order's award forgets whose it was; its points and total stay.
    Remembered, so a replay brings nobody back."""
    ErasedOrder.objects.get_or_create(order_id=order_id)
    Award.objects.filter(order_id=order_id).exclude(email="").update(email="")


def projection_reset() -> None:
    """Forget every award, before rebuilding them from the order events.

    The erased orders stay: they are not rebuilt from anything, and a placement the
    rebuild reads again must still find its customer gone."""
    Award.objects.all().delete()
