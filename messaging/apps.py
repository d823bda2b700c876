from django.apps import AppConfig
from django.core.checks import register


class MessagingConfig(AppConfig):
    name = "messaging"
    verbose_name = "Messaging"

    def ready(self) -> None:
        from . import checks, registry

        registry.autodiscover()
        for check in checks.CHECKS:
            register(check, checks.TAG)
