"""What each service of the chain does with its command, and which commands it sends on.

Each handler runs in one transaction with the row that makes its command once (the
`bench_chain_handled` table: service and message id, the chain's inbox) and returns the
commands to send once that transaction has committed. The business writes are the apps'
own tables, as the shop's services write them; the shop's events are not written: the
chain has none.
"""

from __future__ import annotations

import uuid
from collections import Counter

from django.conf import settings
from django.core.mail import EmailMessage
from django.db import connection
from django.db.models.functions import Now
from django.utils.dateparse import parse_datetime

from config.money import format_money
from notifications import messages
from notifications.backends import send_text
from notifications.models import Notification
from sales import services as sales
from warehouse.models import Reservation, ReservationLine, Stock

from .commands import Command, DispatchProduct, RecordSale, SendEmail, SendText

HANDLED_TABLE = "bench_chain_handled"  # created by the harness, like the ping table
CARRIER = "ParcelPost"


def create_tables() -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            f"CREATE TABLE IF NOT EXISTS {HANDLED_TABLE} (service text NOT NULL, "
            "message_id uuid NOT NULL, order_id uuid NOT NULL, "
            "handled_at timestamptz NOT NULL DEFAULT clock_timestamp(), "
            "PRIMARY KEY (service, message_id))"
        )
        cursor.execute(
            f"CREATE INDEX IF NOT EXISTS {HANDLED_TABLE}_order ON {HANDLED_TABLE} (order_id)"
        )


def first_time(service: str, received: list[Command]) -> set:
    """The ids of the batch's commands this service never handled, marked handled in one
    statement: the batch's transaction keeps the marks only with the effects. A member
    handling the same records at the same moment (a rebalance) waits on their rows here,
    and then finds them handled."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {HANDLED_TABLE} (service, message_id, order_id) "
            "SELECT %s, * FROM unnest(%s::uuid[], %s::uuid[]) "
            "ON CONFLICT DO NOTHING RETURNING message_id",
            [service, [c.message_id for c in received], [c.order_id for c in received]],
        )
        return {str(row[0]) for row in cursor.fetchall()}


def handle(command: Command) -> list[Command]:
    """The commands `command` causes, handled in the batch's transaction (no savepoint: a
    failing command stops the service, and the batch is read again)."""
    return HANDLERS[type(command)](command)


def dispatch_product(command: DispatchProduct) -> list[Command]:
    """Reserve every line and ship at once (the benchmark packs in no time), then tell
    notifications what to say."""
    wanted = Counter()
    for line in command.lines:
        wanted[line["sku"]] += line["quantity"]
    stock = {
        s.sku: s for s in Stock.objects.select_for_update().filter(sku__in=wanted).order_by("sku")
    }
    ref = command.order_id[:8].upper()
    short = [sku for sku, qty in wanted.items() if sku not in stock or stock[sku].available < qty]
    if short:
        reason = f"Out of stock: {', '.join(sorted(short))}"
        return _tell(command, "cancelled", messages.cancelled(command.name, ref, reason))
    for sku, quantity in wanted.items():
        stock[sku].on_hand -= quantity
    Stock.objects.bulk_update(stock.values(), ["on_hand"])
    tracking = f"PP{uuid.uuid4().int % 10**10:010d}"
    reservation = Reservation.objects.create(
        order_id=command.order_id,
        status=Reservation.Status.DISPATCHED,
        recipient=command.name,
        address=command.address,
        carrier=CARRIER,
        tracking_number=tracking,
        dispatch_command_id=command.message_id,
    )
    ReservationLine.objects.bulk_create(
        ReservationLine(reservation=reservation, sku=sku, quantity=qty)
        for sku, qty in sorted(wanted.items())
    )
    sale = {"placed_at": command.placed_at, "lines": command.lines}
    return _tell(command, "confirmed", messages.confirmed(command.name, ref)) + _tell(
        command,
        "dispatched",
        messages.dispatched(command.name, ref, CARRIER, tracking),
        then_record_sale=sale,
    )


def _tell(command: DispatchProduct, kind: str, wording, then_record_sale=None) -> list[Command]:
    return [
        SendEmail(
            order_id=command.order_id,
            kind=kind,
            to=command.email,
            subject=wording.subject,
            body=wording.email,
            then_record_sale=then_record_sale,
        ),
        SendText(order_id=command.order_id, kind=kind, to=command.phone, body=wording.text),
    ]


def received(*, order_id: str, customer: dict, total, currency: str) -> list[Command]:
    """What the BUY itself asks notifications to say."""
    wording = messages.received(
        customer["name"], order_id[:8].upper(), format_money(total, currency)
    )
    return [
        SendEmail(
            order_id=order_id,
            kind="received",
            to=customer["email"],
            subject=wording.subject,
            body=wording.email,
        ),
        SendText(order_id=order_id, kind="received", to=customer["phone"], body=wording.text),
    ]


def send(command: SendEmail | SendText) -> list[Command]:
    """Record the notification; it is delivered after commit (`deliver`)."""
    channel = "email" if isinstance(command, SendEmail) else "text"
    Notification.objects.create(
        order_id=command.order_id,
        kind=command.kind,
        channel=channel,
        to=command.to,
        subject=getattr(command, "subject", ""),
        body=command.body,
        status=Notification.Status.SENDING,
        attempts=1,
        claimed_at=Now(),
        next_attempt_at=None,
        dedup_key=f"chain-{command.message_id}@example.com",
        correlation_id=command.order_id,
        caused_by=command.message_id,
    )
    return []


def deliver(command: SendEmail | SendText) -> list[Command]:
    """Send outside any transaction with the same key on every attempt, mark it sent; then
    the next step of the chain, if the command carries one."""
    key = f"chain-{command.message_id}@example.com"
    if isinstance(command, SendEmail):
        EmailMessage(
            command.subject,
            command.body,
            settings.DEFAULT_FROM_EMAIL,
            [command.to],
            headers={"Message-ID": f"<{key}>"},
        ).send()
    else:
        send_text(to=command.to, body=command.body, idempotency_key=key)
    Notification.objects.filter(dedup_key=key).update(
        status=Notification.Status.SENT, sent_at=Now()
    )
    sale = getattr(command, "then_record_sale", None)
    return [RecordSale(order_id=command.order_id, **sale)] if sale else []


def record_sale(command: RecordSale) -> list[Command]:
    # The sales app's own service: the figures are the same rows the shop's sales fill.
    sales.sale_record(
        order_id=uuid.UUID(command.order_id),
        placed_at=parse_datetime(command.placed_at),
        lines=command.lines,
    )
    return []


HANDLERS = {
    DispatchProduct: dispatch_product,
    SendEmail: send,
    SendText: send,
    RecordSale: record_sale,
}
# Side effects that cannot be rolled back run after the handling transaction commits.
AFTER_COMMIT = {SendEmail: deliver, SendText: deliver}
