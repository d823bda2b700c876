from django.core.management.base import BaseCommand

from messaging.contracts import contract_topics
from messaging.topics import create_topics, dead_letter_topics


class Command(BaseCommand):
    help = (
        "Create the Kafka topics every message contract names, and each consumer group's "
        "dead-letter topic (existing ones are kept)."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--partitions", type=int, help="partitions per new topic")

    def handle(self, *args, partitions: int | None = None, **options) -> None:
        created = create_topics(partitions)
        for topic in contract_topics() + dead_letter_topics():
            state = "created" if topic in created else "exists"
            self.stdout.write(f"{topic:<28} {state}")
