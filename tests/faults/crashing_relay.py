"""The outbox relay, made to die at its most dangerous moment.

Run as `python -m tests.faults.crashing_relay <rows> <report path>`. It is the real relay
until it has sent `rows` rows; then, in the flush that completes that batch, it waits for
the broker to acknowledge every record of the batch, writes their message ids to the
report file and exits at once (os._exit: no cleanup, as under SIGKILL). Kafka then holds
records whose outbox rows were never marked published: the next relay publishes them again.
A SIGKILL from outside hits this window only by luck; this hits it every time.
"""

import json
import os
import sys

CRASH_EXIT_CODE = 70


class CrashAfterFlush:
    """A KafkaProducer that dies after the flush that takes it past `rows` records."""

    def __init__(self, producer, rows: int, report: str) -> None:
        self.producer, self.rows, self.report = producer, rows, report
        self.sent = 0
        self.batch: list[tuple[str, object]] = []  # (message id, future) since the last flush

    def send(self, topic, **kwargs):
        future = self.producer.send(topic, **kwargs)
        self.batch.append((dict(kwargs["headers"])["ce_id"].decode(), future))
        self.sent += 1
        return future

    def flush(self, *args, **kwargs) -> None:
        self.producer.flush(*args, **kwargs)
        if self.sent >= self.rows:
            for _, future in self.batch:
                future.get()  # on Kafka for certain, like the real relay checks
            with open(self.report, "w") as out:
                json.dump([message_id for message_id, _ in self.batch], out)
            os._exit(CRASH_EXIT_CODE)  # before publish_batch stamps the rows
        self.batch = []

    def close(self, *args, **kwargs) -> None:
        self.producer.close(*args, **kwargs)


def main(rows: int, report: str) -> None:
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    django.setup()
    from messaging import relay

    make_producer = relay.kafka_producer
    relay.kafka_producer = lambda **options: CrashAfterFlush(make_producer(**options), rows, report)
    relay.Relay().run()


if __name__ == "__main__":
    main(int(sys.argv[1]), sys.argv[2])
