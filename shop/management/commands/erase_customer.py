from django.core.management.base import BaseCommand, CommandError

from shop.services import customer_erase


class Command(BaseCommand):
    help = (
        "Erase one customer's personal data (found by their email) from the shop, and ask "
        "every app, through Kafka, to erase its copy. Orders still on their way are left: "
        "run it again once they are dispatched or cancelled."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--email", required=True, help="the email the customer ordered with")

    def handle(self, *args, email: str, **options) -> None:
        # The email is not printed back: what a command prints ends up in logs.
        erasure = customer_erase(email=email)
        if not erasure.erased and not erasure.in_progress:
            raise CommandError("No order or request names that email (or it is erased already).")
        for order_id in erasure.erased:
            self.stdout.write(f"erased: {order_id}")
        for order_id in erasure.in_progress:
            self.stdout.write(f"still in progress, not erased: {order_id}")
        self.stdout.write(
            f"{len(erasure.erased)} erased, {len(erasure.in_progress)} in progress; every app "
            "erases its copy when it handles CustomerErased."
        )
        if erasure.in_progress:
            raise CommandError(
                "Some orders are still on their way: run this again once they are dispatched "
                "or cancelled."
            )
