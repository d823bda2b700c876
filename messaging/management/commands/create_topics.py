from django.core.management.base import BaseCommand

from messaging.contracts import contract_topics
from messaging.topics import create_topics, dead_letter_topics, topic_configs


class Command(BaseCommand):
    help = (
        "Create the Kafka topics every message contract names, and each consumer group's "
        "dead-letter topic, with their retention (existing ones are kept as they are "
        "unless --alter)."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--partitions", type=int, help="partitions per new topic")
        parser.add_argument(
            "--alter",
            action="store_true",
            help="also set the retention of existing topics (see messaging.W001)",
        )

    def handle(self, *args, partitions: int | None = None, alter=False, **options) -> None:
        created = create_topics(partitions, alter=alter)
        for topic in contract_topics() + dead_letter_topics():
            state = "created" if topic in created else "altered" if alter else "exists"
            retention = int(topic_configs(topic)["retention.ms"])
            kept = "unlimited" if retention < 0 else f"retention.ms={retention}"
            self.stdout.write(f"{topic:<28} {state:<8} {kept}")
