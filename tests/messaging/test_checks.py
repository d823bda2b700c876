"""The messaging system checks (messaging.checks): each rule, broken once, and the project
as it stands, which breaks none."""

import pytest
from django.core.checks import run_checks
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command
from django.core.management.base import SystemCheckError

from messaging import checks, conf, contracts, registry
from messaging.contracts import Command, Event
from shop.contracts import PlaceOrder


@pytest.fixture(autouse=True)
def registries(monkeypatch):
    """Contracts, upcasters and consumer groups a test declares are gone after it."""
    monkeypatch.setattr(contracts, "_TYPES", dict(contracts._TYPES))
    monkeypatch.setattr(contracts, "_UPCASTERS", dict(contracts._UPCASTERS))
    monkeypatch.setattr(registry, "_GROUPS", dict(registry._GROUPS))


def contract(base, name, *, source="shop", topic=None, module="shop.contracts", version=1):
    """A throwaway contract, declared (by default) as if in shop/contracts.py."""
    topic = topic or f"{source}.{base.kind}s"
    namespace = {"__module__": module, "source": source, "topic": topic, "version": version}
    return type(base)(name, (base,), namespace)


def ignore(message, metadata) -> None:
    pass


def ids(messages) -> list[str]:
    return [message.id for message in messages]


def test_the_project_breaks_no_rule():
    assert run_checks(tags=[checks.TAG]) == []
    call_command("check")


def test_the_checks_run_with_manage_py_check(settings):
    settings.MESSAGING = {**settings.MESSAGING, "BOOTSTRAP_SERVER": "kafka:9092"}

    with pytest.raises(SystemCheckError, match=r"messaging\.E008"):
        call_command("check")


def test_a_command_nobody_handles():
    contract(Command, "RefundOrder")

    errors = checks.check_commands_handled_by_owner()

    assert ids(errors) == ["messaging.E001"]
    assert "shop.RefundOrder" in errors[0].msg and "shop/handlers.py" in errors[0].hint


def test_a_command_handled_by_two_groups():
    registry.register("intruder", commands={PlaceOrder: ignore})

    errors = checks.check_commands_handled_by_owner()

    assert ids(errors) == ["messaging.E002"]
    assert "intruder, shop" in errors[0].msg and "intruder" in errors[0].hint


def test_a_command_handled_by_another_app_than_its_owner():
    refund = contract(Command, "RefundOrder")
    registry.register("intruder", commands={refund: ignore})

    errors = checks.check_commands_handled_by_owner()

    assert ids(errors) == ["messaging.E003"]
    assert "not by its owner shop" in errors[0].msg


def test_a_message_declared_outside_a_contracts_module():
    contract(Event, "OrderAudited", module="shop.services")
    contract(Event, "OrderArchived", module=__name__)

    errors = checks.check_messages_owned_by_declaring_app()

    assert ids(errors) == ["messaging.E004", "messaging.E004"]
    assert "shop.services" in errors[0].msg and "shop/contracts.py" in errors[0].hint


def test_a_message_whose_source_is_not_the_app_that_declares_it():
    contract(Event, "StockCounted", source="warehouse", module="shop.contracts")

    errors = checks.check_messages_owned_by_declaring_app()

    assert ids(errors) == ["messaging.E005"]
    assert 'source = "shop"' in errors[0].hint


def test_a_handler_for_a_type_no_contract_declares():
    archived = contract(Event, "OrderArchived")
    registry.register("intruder", events={archived: [ignore]})
    del contracts._TYPES[archived.type_name()]

    errors = checks.check_handled_types_declared()

    assert ids(errors) == ["messaging.E006"]
    assert "intruder" in errors[0].msg and "shop.OrderArchived" in errors[0].msg


def test_a_topic_with_commands_and_events():
    contract(Command, "ArchiveOrder", topic="orders")

    errors = checks.check_topics_not_mixed()

    assert ids(errors) == ["messaging.E007"]
    assert errors[0].obj == "orders" and "shop.ArchiveOrder" in errors[0].msg


def test_an_unknown_setting(settings):
    settings.MESSAGING = {**settings.MESSAGING, "HANDLER_ATEMPTS": 3}

    errors = checks.check_settings_known()

    assert ids(errors) == ["messaging.E008"]
    assert "HANDLER_ATEMPTS" in errors[0].msg and "HANDLER_ATTEMPTS" in errors[0].hint
    with pytest.raises(ImproperlyConfigured, match="HANDLER_ATEMPTS"):
        conf.get("HANDLER_ATTEMPTS")  # processes that run no checks refuse it as well


def test_a_version_step_without_an_upcaster():
    contract(Event, "OrderArchived", version=2)

    errors = checks.check_upcasters_complete()

    assert ids(errors) == ["messaging.E009"]
    assert errors[0].obj == "shop.OrderArchived from version 1 to 2"
