"""`python -m benchmarks.chain.worker <service>`: one service of the chain, as a process.

A plain kafka-python consumer group per service, configured as the shop's consumers are
(`messaging.kafka.consumer`: manual commits, read_committed, the same poll and fetch
settings) and a producer configured as the shop's relay (`messaging.kafka.producer`:
acks=all, idempotent). A poll's batch is handled as the shop's consumers handle theirs
when nothing fails: one transaction, no savepoint per record, the batch's rows that make
each command once written in one statement (services.first_time). Once it commits, the side
effects run (sending the emails and texts, on SIDE_EFFECT_THREADS threads) and the
commands the batch caused are sent; the offsets are committed once every send is
acknowledged. A crash before that redelivers the batch, and the handled table makes that
harmless. What this leaves out, and the shop does not: a crash between the commit and the
sends loses the commands the batch would have sent (closing that gap is what an outbox
costs), and a command whose handler fails stops its service, which has no parking,
retries or dead letters.
"""

from __future__ import annotations

import logging
import signal
import sys
import threading
from concurrent.futures import ThreadPoolExecutor

import django

logger = logging.getLogger("benchmarks.chain")
# Side effects (sending an email or a text) run on this many threads, as the shop's
# notifications worker runs its deliveries (the Procfile's --concurrency=4).
SIDE_EFFECT_THREADS = 4


def main(service: str) -> None:
    django.setup()
    from django.db import close_old_connections, transaction

    from messaging import beforecommit
    from messaging.kafka import consumer, producer

    from . import commands, services

    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    client = consumer(f"chain-{service}", [commands.TOPICS[service]])
    sender = producer(client_id=f"chain-{service}")
    pool = ThreadPoolExecutor(SIDE_EFFECT_THREADS)  # each thread keeps its own connection
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    logger.info("chain %s consuming %s", service, commands.TOPICS[service])
    try:
        while not stop.is_set():
            batch = client.poll(timeout_ms=250)
            if not batch:
                continue
            close_old_connections()
            handled = []
            # Configured as ours: what a batch's handlings write together (sales' figures)
            # is written once for the batch.
            with transaction.atomic(), beforecommit.gathering():
                received = [
                    commands.decode(record.value, record.headers)
                    for records in batch.values()
                    for record in records
                ]
                new = services.first_time(service, received)
                for command in received:
                    if command.message_id in new:
                        new.discard(command.message_id)  # a second copy in the batch
                        handled.append((command, services.handle(command)))
            effects = [
                pool.submit(services.AFTER_COMMIT[type(command)], command)
                if type(command) in services.AFTER_COMMIT
                else None
                for command, _ in handled
            ]
            pending = []
            for (_, caused), effect in zip(handled, effects, strict=True):
                for next_command in caused + (effect.result() if effect else []):
                    topic, key, value, headers = commands.encode(next_command)
                    pending.append(sender.send(topic, key=key, value=value, headers=headers))
            sender.flush()
            for future in pending:
                future.get()  # raises if a command was not acknowledged: nothing committed
            client.commit()
    finally:
        pool.shutdown()
        client.close(autocommit=False)
        sender.close()


if __name__ == "__main__":
    main(sys.argv[1])
