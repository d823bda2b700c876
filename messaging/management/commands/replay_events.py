from datetime import datetime
from uuid import UUID

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from messaging import replay, telemetry


class Command(BaseCommand):
    help = (
        "Replay Kafka topics into one consumer group or one projection. Handling stays "
        "idempotent: the group's inbox skips what it handled before. Interrupted, it resumes."
    )

    def add_arguments(self, parser) -> None:
        target = parser.add_mutually_exclusive_group(required=True)
        target.add_argument("--group", help="a consumer group, e.g. notifications")
        target.add_argument("--projection", help="a projection, e.g. sales or availability")
        start = parser.add_mutually_exclusive_group()
        start.add_argument("--from-offset", type=int, help="start at this offset per partition")
        start.add_argument(
            "--since",
            type=datetime.fromisoformat,
            help="start at this time (ISO 8601, e.g. 2026-11-24T08:00+00:00)",
        )
        parser.add_argument("--correlation-id", type=UUID, help="only this conversation")
        parser.add_argument(
            "--topic",
            action="append",
            dest="topics",
            help="only this topic (repeatable); default: all the target follows",
        )
        parser.add_argument(
            "--rebuild",
            action="store_true",
            help="empty the projection first, then rebuild it from its events",
        )
        parser.add_argument(
            "--accept-incomplete-history",
            action="store_true",
            help="rebuild even when a topic no longer holds every record (the figures then "
            "count only what is left)",
        )
        parser.add_argument(
            "--allow-commands",
            action="store_true",
            help="also replay command topics, from a --since within RETAIN_INBOX (the inbox "
            "skips what it handled since)",
        )
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="list what would be handled and what the inbox would skip",
        )
        parser.add_argument(
            "--restart",
            action="store_true",
            help="forget an interrupted run's checkpoints and start over",
        )

    def handle(self, *args, **options) -> None:
        telemetry.setup("replay")
        try:
            plan = replay.plan(
                group_name=options["group"],
                projection=options["projection"],
                topics=options["topics"],
                from_offset=options["from_offset"],
                since=options["since"],
                correlation_id=options["correlation_id"],
                rebuild=options["rebuild"],
                allow_commands=options["allow_commands"],
                accept_incomplete_history=options["accept_incomplete_history"],
            )
        except replay.ReplayRefused as refusal:
            raise CommandError(str(refusal)) from None
        self.stdout.write(
            f"Replaying {', '.join(plan.topics)} into {plan.group.name}"
            + (" (dry run)" if options["dry_run"] else "")
        )
        with tqdm(unit="rec", desc="replay", dynamic_ncols=True) as bar:

            def progress(done: int, total: int) -> None:
                bar.total = total
                bar.update(done - bar.n)

            try:
                report = replay.run(
                    plan, dry_run=options["dry_run"], restart=options["restart"], progress=progress
                )
            except replay.ReplayRefused as refusal:
                raise CommandError(str(refusal)) from None
        if report.resumed:
            self.stdout.write("Resumed an interrupted replay from its checkpoints.")
        self.stdout.write(f"{report.read} records read")
        for (message_type, outcome), count in sorted(report.outcomes.items()):
            self.stdout.write(f"  {count:>7}  {message_type:<36} {outcome}")
