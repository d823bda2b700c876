import signal
import threading

from django.core.management.base import BaseCommand

from messaging import metrics, telemetry
from messaging.heartbeats import Heart
from messaging.models import Heartbeat
from messaging.relay import Relay


class Command(BaseCommand):
    help = "Publish outbox rows to Kafka, in order, until stopped (SIGINT or SIGTERM)."

    def handle(self, *args, **options) -> None:
        telemetry.setup("relay")
        metrics.serve()
        stop = threading.Event()
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, lambda *_: stop.set())
        with Heart() as heart:
            relay = Relay(stop, pulse=heart.pulse(Heartbeat.Kind.RELAY, "relay"))
            relay.run()
        self.stdout.write(f"relay stopped after publishing {relay.published} messages")
