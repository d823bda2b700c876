from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError


class Command(BaseCommand):
    help = "Create the demo-only staff account admin/admin (refused outside demo mode)."

    def handle(self, *args, **options) -> None:
        if not settings.DEMO_MODE:
            raise CommandError("The admin/admin account exists only in demo mode (SHOP_DEMO=1).")
        user, created = get_user_model().objects.get_or_create(
            username="admin", defaults={"is_staff": True, "is_superuser": True}
        )
        if created:
            user.set_password("admin")
            user.save()
        self.stdout.write("demo admin: admin / admin" + (" (created)" if created else ""))
