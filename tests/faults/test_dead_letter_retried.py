"""An order's OrderPlaced dead-lettered for sales, its cancellation behind it, an operator's retry.

Sales cannot record some orders (a database rule refuses them, as a broken migration or
a full disk would) until each OrderPlaced runs out of tries and becomes a dead letter.
Those orders go to a PO box, so the warehouse refuses to ship them and the shop cancels
them: their OrderCancelled reaches sales while their placement is dead. It must wait
behind it. Then an operator fixes the cause and retries the dead letters from the admin:
each placement is handled in its place, its cancellation after it, and the sales figures
come out as the orders say: cancelled, not sold.
"""

import pytest
from django.db import connection

from messaging import retrying
from messaging.models import DeadLetter, ParkedRecord
from shop.models import Order
from tests.factories import product
from tests.faults.stream import PO_BOX

pytestmark = pytest.mark.faults

DOOMED_SKU = "FLT-DOOM"
DOOMED = 4


def test_a_dead_lettered_placement_retried_after_its_cancellation_counts_as_cancelled(shop):
    product(DOOMED_SKU, price="5.00", stock=100)
    shop.initial_stock[DOOMED_SKU] = 100
    refuse_sales_of(DOOMED_SKU)
    shop.stack.start_all()
    shop.stream.place(40)
    doomed = [shop.stream.buy(DOOMED_SKU, address=PO_BOX) for _ in range(DOOMED)]
    shop.stream.place(40)

    shop.wait(
        lambda: DeadLetter.objects.filter(group="sales").count() == DOOMED,
        what="sales to give up on the doomed placements",
        timeout=120,
    )
    shop.wait(
        lambda: queued_cancellations() == DOOMED,
        what="their cancellations to queue behind the dead letters",
    )
    cancelled = Order.objects.filter(id__in=doomed, status=Order.Status.CANCELLED).count()
    allow_sales_of(DOOMED_SKU)  # the operator fixes the cause, then retries
    outcomes = [
        retrying.redeliver_dead_letter(letter.id, by="operator")
        for letter in DeadLetter.objects.filter(group="sales")
    ]
    exercised = shop.settle(
        poison=set(DeadLetter.objects.values_list("group", "topic", "partition", "offset"))
    )

    shop.report(
        "an OrderPlaced dead-lettered for sales, its OrderCancelled queued behind it, retried",
        exercised,
        **{
            "dead-lettered placements": DOOMED,
            "their orders cancelled before the retry": cancelled,
            "outcomes of the operator's retries": sorted(set(map(str, outcomes))),
        },
    )
    assert cancelled == DOOMED and set(outcomes) == {"handled"}
    assert set(DeadLetter.objects.values_list("status", flat=True)) == {"retried"}


def queued_cancellations() -> int:
    return ParkedRecord.objects.filter(
        group="sales", type="shop.OrderCancelled", dead_letter=None
    ).count()


def refuse_sales_of(sku: str) -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            CREATE FUNCTION refuse_doomed() RETURNS trigger AS $$
            BEGIN
                IF NEW.lines::text LIKE '%%{sku}%%' THEN
                    RAISE EXCEPTION 'sales cannot record {sku} today';
                END IF;
                RETURN NEW;
            END $$ LANGUAGE plpgsql;
            CREATE TRIGGER refuse_doomed BEFORE INSERT OR UPDATE ON sales_salerecord
                FOR EACH ROW EXECUTE FUNCTION refuse_doomed();
            """
        )


def allow_sales_of(sku: str) -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            "DROP TRIGGER refuse_doomed ON sales_salerecord; DROP FUNCTION refuse_doomed();"
        )
