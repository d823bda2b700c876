"""Start-up checks of the messaging wiring: Django system checks tagged "messaging".

Who owns a message and who reacts to it are declared apart, in the owner's contract module
and in each app's handlers module; these checks hold them together before a record is read.
`manage.py check`, and every management command that starts something (migrate,
run_relay, runserver), refuses to go on while one fails. Gunicorn and Celery workers run no
system checks, which is why `conf.get` still refuses an unknown setting by itself.

The checks look at the whole project, whichever apps `check` was asked about: ownership
and handling span apps, so no app's part can be judged alone.
"""

import logging
from collections import defaultdict

from django.apps import apps
from django.core.checks import CheckMessage, Error, Warning
from django.core.exceptions import ImproperlyConfigured
from kafka.errors import KafkaError

from . import conf, topics
from .contracts import all_message_classes, missing_upcasters
from .durations import format_duration
from .registry import groups

logger = logging.getLogger(__name__)

TAG = "messaging"


def check_commands_handled_by_owner(app_configs=None, **kwargs) -> list[CheckMessage]:
    """A command has exactly one handler, in the consumer group of the app that owns it."""
    handled_by = _handling_groups()
    errors = []
    for command in _messages("command"):
        name, owner = command.type_name(), command.source
        by = handled_by.get(name, [])
        if not by:
            errors.append(
                Error(
                    f"The command {name} has no handler: nothing would ever carry it out.",
                    hint=f"Add it to COMMAND_HANDLERS in {owner}/handlers.py (its owner, "
                    f"{owner}, handles it), or delete the command if nobody sends it.",
                    obj=name,
                    id="messaging.E001",
                )
            )
        elif len(by) > 1:
            others = [group for group in by if group != owner]
            errors.append(
                Error(
                    f"The command {name} is handled by {len(by)} consumer groups "
                    f"({', '.join(by)}): each would carry it out.",
                    hint=f"Only its owner, {owner}, handles it: remove it from the handlers "
                    f"of {', '.join(others)}. An app that needs to know reacts to the event "
                    f"{owner} publishes once the command is done.",
                    obj=name,
                    id="messaging.E002",
                )
            )
        elif by != [owner]:
            errors.append(
                Error(
                    f"The command {name} is handled by {by[0]}, not by its owner {owner}.",
                    hint=f"Move the handler to COMMAND_HANDLERS in {owner}/handlers.py; or, "
                    f"if {by[0]} should own the command, declare it in "
                    f'{by[0]}/contracts.py with source = "{by[0]}".',
                    obj=name,
                    id="messaging.E003",
                )
            )
    return errors


def check_messages_owned_by_declaring_app(app_configs=None, **kwargs) -> list[CheckMessage]:
    """A message is declared in its owner's contracts module, and names that app its source."""
    errors = []
    for message in all_message_classes():
        name, module = message.type_name(), message.__module__
        app = apps.get_containing_app_config(module)
        if app is None or module != f"{app.name}.contracts":
            errors.append(
                Error(
                    f"The {message.kind} {name} is declared in {module}, not in an app's "
                    "contracts module.",
                    hint=f"Move {message.__name__} to the contracts module of the app that owns "
                    f"it ({message.source}/contracts.py): other apps import contracts from "
                    "there and from nowhere else.",
                    obj=name,
                    id="messaging.E004",
                )
            )
        elif message.source != app.label:
            errors.append(
                Error(
                    f"The {message.kind} {name} is declared by the app {app.label} ({module}) "
                    f"but names {message.source!r} as its source.",
                    hint=f'Set source = "{app.label}" (the app that declares a message owns '
                    f"it), or move {message.__name__} to {message.source}/contracts.py.",
                    obj=name,
                    id="messaging.E005",
                )
            )
    return errors


def check_handled_types_declared(app_configs=None, **kwargs) -> list[CheckMessage]:
    """Every handler is for a message type some contract module declares."""
    declared = {message.type_name() for message in all_message_classes()}
    return [
        Error(
            f"The consumer group {group.name} has a handler for {type_name}, which no "
            "contract declares: no record of it could be read.",
            hint=f"Declare {type_name} in its owner's contracts module, or remove the "
            f"handler from {group.name}'s handlers module.",
            obj=group.name,
            id="messaging.E006",
        )
        for group in groups().values()
        for type_name in sorted(group.handlers)
        if type_name not in declared
    ]


def check_topics_not_mixed(app_configs=None, **kwargs) -> list[CheckMessage]:
    """A topic carries commands or events, never both."""
    on_topic: dict[str, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
    for message in all_message_classes():
        on_topic[message.topic][message.kind].append(message.type_name())
    return [
        Error(
            f"The topic {topic} carries commands ({', '.join(sorted(kinds['command']))}) "
            f"and events ({', '.join(sorted(kinds['event']))}).",
            hint="Give commands their own topic (the owner's '<app>.commands'): every group "
            "that follows an event reads its whole topic, and a command is for its owner "
            "alone.",
            obj=topic,
            id="messaging.E007",
        )
        for topic, kinds in sorted(on_topic.items())
        if kinds["command"] and kinds["event"]
    ]


def check_settings_known(app_configs=None, **kwargs) -> list[CheckMessage]:
    """Every key of settings.MESSAGING is one the platform reads (else it is a typo)."""
    unknown = conf.unknown_keys()
    if not unknown:
        return []
    return [
        Error(
            f"Unknown MESSAGING settings: {', '.join(unknown)}.",
            hint=f"Correct or remove them; the known keys are {', '.join(sorted(conf.DEFAULTS))}.",
            obj="settings.MESSAGING",
            id="messaging.E008",
        )
    ]


def check_upcasters_complete(app_configs=None, **kwargs) -> list[CheckMessage]:
    """Every version step of every contract has an upcaster, so old records stay readable."""
    return [
        Error(
            f"No upcaster for {step}: a record written at the older version would be "
            "dead-lettered as invalid.",
            hint="Declare @upcaster(<Contract>, from_version=<n>) next to the contract, "
            "turning that version's data into the next version's.",
            obj=step,
            id="messaging.E009",
        )
        for step in missing_upcasters()
    ]


def check_retention_settings(app_configs=None, **kwargs) -> list[CheckMessage]:
    """Every retention setting is a positive duration, and together they keep "nothing
    twice" (conf.retention_conflicts)."""
    try:
        conflicts = conf.retention_conflicts()
        conf.event_topic_retention()
        for key in (
            "RETAIN_MESSAGE_LOG",
            "RETAIN_HANDLING_FAILURES",
            "RETAIN_DEAD_LETTERS",
            "RETAIN_BROKER_LOSSES",
        ):
            conf.duration(key)
    except ImproperlyConfigured as exc:
        conflicts = [str(exc)]
    return [
        Error(
            conflict,
            hint="Set RETAIN_INBOX at least as long as RETAIN_OUTBOX, RETAIN_IDEMPOTENCY_KEYS "
            "to a day or more; every RETAIN_* is a duration such as 7d, 12h, 30m, 45s or a "
            "number of seconds.",
            obj="settings.MESSAGING",
            id="messaging.E010",
        )
        for conflict in conflicts
    ]


def check_command_topics_within_inbox_window(app_configs=None, **kwargs) -> list[CheckMessage]:
    """No existing topic a command can come back from keeps records longer than the inbox
    window remembers them (messaging.topics). Skipped when the broker does not answer."""
    try:
        window = conf.duration("RETAIN_INBOX")
        described = topics.retention_of(topics.within_inbox_window())
    # A check must never stop `manage.py` because Kafka is away (or not yet configured):
    # the topics are checked on the next start that reaches it.
    except (KafkaError, OSError, ImproperlyConfigured) as exc:
        logger.debug("messaging.W001 skipped: %s", exc)
        return []
    warnings = []
    for topic, configs in sorted(described.items()):
        kept = topics.longest_kept(configs)
        if kept is not None and kept <= window:
            continue
        warnings.append(
            Warning(
                f"The topic {topic} keeps records {_keeps(configs, kept)}, longer than the "
                f"inbox window (RETAIN_INBOX, {format_duration(window)}): a command read "
                "again after its inbox entry was purged would be carried out twice.",
                hint="Run `python manage.py create_topics --alter` to give it the retention "
                "new topics get (retention.ms half the window, segment.ms a quarter), or "
                "raise RETAIN_INBOX.",
                obj=topic,
                id="messaging.W001",
            )
        )
    return warnings


CHECKS = (
    check_commands_handled_by_owner,
    check_messages_owned_by_declaring_app,
    check_handled_types_declared,
    check_topics_not_mixed,
    check_settings_known,
    check_upcasters_complete,
    check_retention_settings,
    check_command_topics_within_inbox_window,
)


def _keeps(configs: dict[str, int], kept) -> str:
    if kept is not None:
        return f"up to {format_duration(kept)} (retention.ms plus segment.ms)"
    if "retention.ms" in configs:
        return "for ever (retention.ms -1)"
    return "as long as the broker's default (it reports no retention.ms)"


def _messages(kind: str) -> list:
    return sorted((m for m in all_message_classes() if m.kind == kind), key=lambda m: m.type_name())


def _handling_groups() -> dict[str, list[str]]:
    """Each message type's consumer groups that have a handler for it, by name."""
    handled_by: dict[str, list[str]] = defaultdict(list)
    for group in groups().values():
        for type_name in group.handlers:
            handled_by[type_name].append(group.name)
    return {name: sorted(by) for name, by in handled_by.items()}
