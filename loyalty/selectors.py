"""Reads of the points: a customer's are those of the orders placed with their email."""

from django.db.models import Sum

from .models import Award


def _of(email: str):
    owner = email.strip().lower()
    if not owner:
        # No address, no points: blank is also what an erased award holds.
        return Award.objects.none()
    return Award.objects.filter(email=owner, placed_at__isnull=False)


def awards(*, email: str, limit: int = 100) -> list[Award]:
    """The orders the customer's points came from, newest first, cancelled ones included."""
    return list(_of(email).order_by("-placed_at")[:limit])


def balance(*, email: str) -> int:
    return _of(email).filter(cancelled=False).aggregate(points=Sum("points"))["points"] or 0
