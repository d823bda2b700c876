"""Every metrics endpoint scraped around one BUY: the counters moved by what it caused.

The relay and the worker serve their own (METRICS_PORT, tests/e2e/conftest.py); the live
server's `/metrics` serves the gauges read from the database and the broker, and the
counters of the process that took the BUY. Expected numbers come from the database's own
record of the conversation (inbox rows, outbox rows, failed attempts), so the test says
"exactly what this order caused", not a count written down by hand.
"""

import urllib.request
from collections import Counter

import pytest
from prometheus_client.parser import text_string_to_metric_families

from messagelog.models import MessageRecord
from messaging.models import HandlingFailure, InboxEntry, OutboxMessage
from notifications.models import Notification, SentEmail, SentText
from shop.models import Order
from tests.e2e.conversation import buy, settled
from tests.factories import product

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def scrape(url: str) -> dict[tuple[str, frozenset], float]:
    with urllib.request.urlopen(url, timeout=10) as response:
        text = response.read().decode()
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def counted(samples: dict, name: str, *labels: str) -> Counter:
    """The sample `name`, summed by the values of `labels`."""
    totals = Counter()
    for (sample, label_set), value in samples.items():
        if sample == name:
            found = dict(label_set)
            totals[tuple(found[label] for label in labels)] += value
    return totals


def test_one_buy_moves_every_counter_by_what_it_caused(live_server, metrics_ports, wait_until):
    endpoints = {
        "web": f"{live_server.url}/metrics",
        "relay": f"http://127.0.0.1:{metrics_ports['relay']}/metrics",
        "worker": f"http://127.0.0.1:{metrics_ports['worker']}/metrics",
    }
    product("MUG-001", price="14.00", stock=10)

    def scrape_all():
        try:
            return {name: scrape(url) for name, url in endpoints.items()}
        except OSError:
            return None  # a process still starting

    before = wait_until(scrape_all, what="every metrics endpoint to answer")

    order_id = buy(live_server, "MUG-001", 1)
    wait_until(lambda: settled(order_id), what="the order to be dispatched")
    # Sent, then announced (EmailSent, TextSent) in a transaction of their own: wait for both.
    wait_until(
        lambda: (
            SentText.objects.count() == 3
            and SentEmail.objects.count() == 3
            and Notification.objects.filter(
                order_id=order_id, status=Notification.Status.SENT
            ).count()
            == 6
        ),
        what="the three emails and texts, sent and announced",
    )
    correlation = Order.objects.get(id=order_id).correlation_id
    wait_until(
        lambda: not OutboxMessage.objects.pending().filter(correlation_id=correlation).exists(),
        what="the relay to publish the whole conversation",
    )

    def expected() -> dict[str, Counter]:
        inbox = InboxEntry.objects.filter(correlation_id=correlation)
        outbox = OutboxMessage.objects.filter(correlation_id=correlation)
        failures = HandlingFailure.objects.filter(
            message_id__in=outbox.values("message_id")
        ).values_list("group", "type")
        log = MessageRecord.objects.filter(correlation_id=correlation)
        return {
            # The audit group records every record of the conversation (the message log).
            "handled": Counter(inbox.values_list("group", "type"))
            + Counter(("audit", t) for t in log.values_list("type", flat=True)),
            "failed": Counter(failures),
            "published": Counter((t,) for t in outbox.values_list("topic", flat=True)),
            "written": Counter((t,) for t in outbox.values_list("type", flat=True)),
        }

    def moved() -> dict[str, Counter]:
        now = {name: scrape(url) for name, url in endpoints.items()}

        def delta(process, name, *labels):
            change = counted(now[process], name, *labels)
            change.subtract(counted(before[process], name, *labels))
            return +change  # only what moved

        records = delta("worker", "shop_consumer_records_total", "group", "type", "outcome")
        written = delta("web", "shop_outbox_written_total", "type")
        written.update(delta("worker", "shop_outbox_written_total", "type"))
        by_outcome = {
            outcome: Counter({(g, t): n for (g, t, o), n in records.items() if o == outcome})
            for outcome in {"handled", "failed", "duplicate", "dead_lettered"}
        }
        return {
            "handled": by_outcome["handled"],
            "failed": by_outcome["failed"],
            "duplicate": by_outcome["duplicate"],
            "dead_lettered": by_outcome["dead_lettered"],
            "published": delta("relay", "shop_relay_published_total", "topic"),
            "written": written,
            "latencies": delta("relay", "shop_relay_publish_latency_seconds_count", "topic"),
            "durations": delta("worker", "shop_handler_duration_seconds_count", "group", "type"),
        }

    def matches():
        want, got = expected(), moved()
        return (
            got["handled"] == want["handled"]
            and got["failed"] == want["failed"]
            and got["published"] == want["published"]
            and got["written"] == want["written"]
            and got
        )

    got = wait_until(matches, what="the counters to match the conversation", timeout=30)
    want = expected()
    assert want["handled"][("shop", "shop.PlaceOrder")] == 1
    assert want["handled"][("notifications", "warehouse.OrderDispatched")] == 1
    assert want["handled"][("audit", "notifications.EmailSent")] == 3
    assert want["written"][("shop.PlaceOrder",)] == 1
    assert sum(want["published"].values()) == sum(want["written"].values()) >= 10
    assert got["duplicate"] == Counter() and got["dead_lettered"] == Counter()
    assert got["latencies"] == got["published"]
    # Every handling was timed, a failed attempt too.
    assert got["durations"] == got["handled"] + got["failed"]

    gauges = scrape(endpoints["web"])
    names = {name for name, _ in gauges}
    assert {
        "shop_outbox_pending_messages",
        "shop_outbox_oldest_pending_age_seconds",
        "shop_consumer_lag_records",
        "shop_heartbeat_age_seconds",
    } <= names
    lagging = counted(gauges, "shop_consumer_lag_records", "group")
    assert {g for (g,) in lagging} >= {"shop", "warehouse", "notifications", "sales", "audit"}

    # The database is emptied between tests; each process beats again within its interval.
    def beating():
        beats = counted(scrape(endpoints["web"]), "shop_heartbeat_age_seconds", "kind")
        return ("relay",) in beats and ("consumer",) in beats

    wait_until(beating, what="the relay's and a consumer's heartbeat age", timeout=20)


def test_metrics_are_not_for_everyone(client):
    assert client.get("/metrics", REMOTE_ADDR="127.0.0.1").status_code == 200
    assert client.get("/metrics", REMOTE_ADDR="203.0.113.9").status_code == 404
    # Through a proxy, even one on this host: a visitor's request, refused.
    proxied = client.get("/metrics", REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR="203.0.113.9")
    assert proxied.status_code == 404
