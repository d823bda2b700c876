"""A fresh database and broker made ready for a run: schema, topics, catalog, stock; and
again, emptied, before each scenario that compares throughput or CPU (`fresh`)."""

import redis
from django.conf import settings
from django.core.management import call_command
from django.db import connection
from django.utils import timezone

from messaging.models import OutboxMessage
from messaging.topics import create_topics
from shop.catalog import catalog_load
from shop.models import Product
from warehouse.models import Stock

from .views import PING_TABLE

# Enough for every order of every scenario: the benchmark measures orders, not shortages.
STOCK = 1_000_000_000


def prepare(*, partitions: int) -> list[Product]:
    """Migrate, create the topics, load the catalog with plenty of stock; the products."""
    call_command("migrate", verbosity=0)
    create_topics(partitions=partitions)
    catalog_load()
    for product in Product.objects.all():
        Stock.objects.update_or_create(sku=product.sku, defaults={"on_hand": STOCK})
    with connection.cursor() as cursor:
        cursor.execute(
            f"CREATE TABLE IF NOT EXISTS {PING_TABLE} "
            "(id bigserial PRIMARY KEY, created_at timestamptz NOT NULL, note text NOT NULL)"
        )
    return list(Product.objects.filter(active=True).order_by("sku"))


def fresh(stack, *, partitions: int, web: bool = True) -> list[Product]:
    """A clean slate, as at the start of the run: every process of the shop stopped, the
    broker restarted empty, every table and the task queues emptied, then `prepare`d, and
    the web server started again (unless `web` is false). The products.

    Each throughput or CPU comparison (scenarios 5, 7 and every turn of 8) starts from one,
    so no side of it pays for the records and rows another scenario left behind: the
    broker's cost per record grows with what it holds (docs/benchmarks.md, "Conditions").
    """
    stack.stop()
    stack.servers.restart_broker()
    call_command("flush", interactive=False, verbosity=0)
    redis.Redis.from_url(settings.CELERY_BROKER_URL).flushdb()
    products = prepare(partitions=partitions)
    if web:
        stack.start_web()
    return products


def forget_pending_outbox() -> int:
    """Stamp every unpublished outbox row as published, so no relay ever sends it.

    Used after the scenarios that measure requests alone (the BUY, the monolith): their
    orders are not meant to travel through Kafka and load a later scenario.
    """
    return OutboxMessage.objects.filter(published_at=None).update(published_at=timezone.now())


def purge_task_queues() -> None:
    """Drop queued Celery tasks (the monolith's after-commit deliveries, already done).

    The whole broker database: the tasks sit in one Redis list per routed queue, and no
    worker runs yet to own any of them.
    """
    redis.Redis.from_url(settings.CELERY_BROKER_URL).flushdb()
