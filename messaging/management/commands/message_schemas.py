from django.core.management.base import BaseCommand, CommandError

from messaging.contracts import missing_upcasters
from messaging.snapshots import snapshot_states, write_snapshots


class Command(BaseCommand):
    help = (
        "Check each message type's schema snapshots against its contract (the default), or "
        "--write the ones that changed compatibly or are new. A breaking change is refused: "
        "it needs a new version (see messaging.compatibility). Fails on a breaking change, a "
        "missing or stray snapshot, or a missing upcaster."
    )

    def add_arguments(self, parser) -> None:
        action = parser.add_mutually_exclusive_group()
        action.add_argument("--check", action="store_true", help="report only (the default)")
        action.add_argument("--write", action="store_true", help="write the snapshots allowed")

    def handle(self, *args, write: bool = False, **options) -> None:
        states = snapshot_states()
        written = {state.path for state in write_snapshots(states)} if write else set()
        problems = 0
        for state in states:
            if state.path in written:
                self.stdout.write(f"{state.name:<48} {state.state}, written")
                continue
            self.stdout.write(f"{state.name:<48} {state.state}")
            if not state.ok:
                self.stdout.write(self.style.WARNING(_indented(state.advice())))
            if state.failed:
                problems += 1
        for step in missing_upcasters():
            problems += 1
            self.stdout.write(self.style.WARNING(f"No upcaster for {step}"))
        if problems:
            raise CommandError(f"{problems} message schema problem(s), see above")


def _indented(text: str) -> str:
    return "\n".join(f"    {line}" for line in text.splitlines())
