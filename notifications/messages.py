"""What the customer is told, per kind of news: a subject, an email body and a text."""

from dataclasses import dataclass


@dataclass(frozen=True)
class Wording:
    subject: str
    email: str
    text: str


def received(name: str, order_ref: str, total: str) -> Wording:
    return Wording(
        subject=f"We received your order {order_ref}",
        email=(
            f"Hello {name},\n\nthank you for your order {order_ref} ({total}). "
            "We are checking the stock now and will confirm shortly.\n\nThe Shop"
        ),
        text=f"Shop: order {order_ref} received ({total}). We'll confirm shortly.",
    )


def confirmed(name: str, order_ref: str) -> Wording:
    return Wording(
        subject=f"Your order {order_ref} is confirmed",
        email=(
            f"Hello {name},\n\nevery item of order {order_ref} is reserved for you. "
            "We will tell you when it ships.\n\nThe Shop"
        ),
        text=f"Shop: order {order_ref} confirmed. We'll text you when it ships.",
    )


def cancelled(name: str, order_ref: str, reason: str) -> Wording:
    return Wording(
        subject=f"Your order {order_ref} was cancelled",
        email=(
            f"Hello {name},\n\nwe are sorry: order {order_ref} was cancelled.\n"
            f"Reason: {reason}\n\nYou have not been charged.\n\nThe Shop"
        ),
        text=f"Shop: order {order_ref} cancelled: {reason}",
    )


def dispatched(name: str, order_ref: str, carrier: str, tracking_number: str) -> Wording:
    return Wording(
        subject=f"Your order {order_ref} is on its way",
        email=(
            f"Hello {name},\n\norder {order_ref} has left our warehouse with {carrier}.\n"
            f"Tracking number: {tracking_number}\n\nThe Shop"
        ),
        text=f"Shop: order {order_ref} dispatched with {carrier}, tracking {tracking_number}.",
    )
