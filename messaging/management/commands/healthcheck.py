import socket

from django.core.management.base import BaseCommand, CommandError

from messaging import liveness
from messaging.models import Heartbeat


class Command(BaseCommand):
    help = (
        "Exit 0 when a process of this kind on this host is beating (every part of it: a "
        "worker's consumer group members too), else 1 and why: a container's health check."
    )
    # Run every few seconds by the container engine: no system checks, only one query.
    requires_system_checks = []

    def add_arguments(self, parser) -> None:
        parser.add_argument("kind", choices=Heartbeat.Kind.values)
        parser.add_argument("--name", default="", help="Only the part of this name.")
        parser.add_argument("--host", default=socket.gethostname(), help="Default: this one.")

    def handle(self, *args, kind: str, name: str, host: str, **options) -> None:
        problem = liveness.unhealthy_here(kind, host, name)
        if problem:
            raise CommandError(problem)
        self.stdout.write(f"{kind} on {host}: beating")
