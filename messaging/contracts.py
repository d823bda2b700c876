"""Message contracts: the base classes every app's contract module builds on.

A *command* asks its one handler to do something and may be refused; an *event*
states a fact that already happened and may interest anyone. Each concrete message
is a frozen, validated pydantic model declared by the app that owns it; its CloudEvents
type is "<owning app>.<ClassName>", e.g. "shop.OrderPlaced".

Each message type has a version. Producers always write the newest; a record of an older
version is turned into the newest by the owner's upcasters, one function per version step
declared next to the contract (`@upcaster(OrderPlaced, from_version=1)`), before it is
validated: handlers only ever see the current model.

A field that holds a person's data is declared `Personal` (a mark in its JSON Schema):
the admin masks it for staff without the permission to see personal data, the event API
says so, and erasing a customer replaces it with the field's erased value.
"""

from collections.abc import Callable
from typing import Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field
from pydantic.fields import FieldInfo

MessageKind = Literal["command", "event"]

# The JSON Schema keywords of a personal field: the mark, and the value that replaces it
# once its person is erased.
PERSONAL = "x-personal"
ERASED_VALUE = "x-erased"
ERASED = "(erased)"
# For a field that must look like an email address: .invalid is never a real domain.
ERASED_EMAIL = "erased@erased.invalid"


def Personal(*, erased: Any = ERASED) -> FieldInfo:
    """Mark a field as a person's data: `name: Annotated[str, Field(...), Personal()]`.

    `erased` replaces the value when its person is erased; it must satisfy the field's own
    constraints (a test checks every contract), so a redacted record still validates: a
    dead letter can still be retried, a lost record published again.
    """
    return Field(json_schema_extra={PERSONAL: True, ERASED_VALUE: erased})


_TYPES: dict[str, type["Message"]] = {}


class Message(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    # Declared by every contract base class (abstract = True in its own body);
    # concrete messages only add fields and are registered by type name.
    abstract: ClassVar[bool] = True
    kind: ClassVar[MessageKind]
    source: ClassVar[str]
    topic: ClassVar[str]
    # The field whose value is the Kafka key: the aggregate the message is about.
    key_field: ClassVar[str] = "order_id"
    # "rejection" for a message that refuses a request, "compensation" for a fact that
    # undoes an earlier one: the message log marks them so a failure path stands out.
    role: ClassVar[str] = ""
    # Bumped (with an upcaster from the previous version and the old schema snapshot kept)
    # when a change is not backward compatible: see messaging.schemas.
    version: ClassVar[int] = 1
    # True for an event that announces a person's data erased from every message with its
    # key: the platform then redacts its own copies of them (messaging.erasure).
    erases_personal_data: ClassVar[bool] = False

    @classmethod
    def __pydantic_init_subclass__(cls, **kwargs: object) -> None:
        super().__pydantic_init_subclass__(**kwargs)
        if not cls.is_concrete():
            return
        name = cls.type_name()
        if name in _TYPES and _TYPES[name] is not cls:
            raise TypeError(f"Two contracts claim the message type {name!r}")
        _TYPES[name] = cls

    @classmethod
    def is_concrete(cls) -> bool:
        # `abstract` is read from the class's own body: subclasses do not inherit it.
        return not cls.__dict__.get("abstract", False)

    @classmethod
    def type_name(cls) -> str:
        return f"{cls.source}.{cls.__name__}"

    @classmethod
    def schema_name(cls) -> str:
        """The name of this version's schema in the event API document: "shop.OrderPlaced.v2"."""
        return versioned_name(cls.type_name(), cls.version)

    @property
    def key(self) -> str:
        """The aggregate id as the Kafka key, so one aggregate's messages share a partition."""
        return str(getattr(self, self.key_field))


class Command(Message):
    abstract = True
    kind = "command"
    # The apps that send it (to its owner, which handles it): the event API document's
    # send operations. An event's only sender is its owner.
    senders: ClassVar[tuple[str, ...]] = ()


class Event(Message):
    abstract = True
    kind = "event"


class UnknownMessageType(LookupError):
    pass


def message_class(type_name: str) -> type[Message]:
    try:
        return _TYPES[type_name]
    except KeyError:
        raise UnknownMessageType(f"No contract declares the message type {type_name!r}") from None


def message_role(type_name: str) -> str:
    """The role of a message type; "" for an ordinary message or a type nobody declares."""
    known = _TYPES.get(type_name)
    return known.role if known else ""


def all_message_classes() -> list[type[Message]]:
    return list(_TYPES.values())


def contract_topics() -> list[str]:
    """Every topic a contract names."""
    return sorted({message.topic for message in _TYPES.values()})


def versioned_name(type_name: str, version: int) -> str:
    return f"{type_name}.v{version}"


# Data of one version in, data of the next version out (plain JSON objects).
Upcaster = Callable[[dict], dict]
_UPCASTERS: dict[tuple[str, int], Upcaster] = {}


class UnknownVersion(LookupError):
    """A record of a version this code cannot read: newer than its contract, with no
    upcaster on the way to the current one, or data its upcaster cannot read."""


def upcaster(contract: type[Message], *, from_version: int) -> Callable[[Upcaster], Upcaster]:
    """Declare the step that turns `contract`'s data of `from_version` into the next version."""

    def register(step: Upcaster) -> Upcaster:
        name = contract.type_name()
        if not 1 <= from_version < contract.version:
            raise TypeError(
                f"{name} is at version {contract.version}: no step from version {from_version}"
            )
        if (name, from_version) in _UPCASTERS:
            raise TypeError(f"Two upcasters for {name} from version {from_version}")
        _UPCASTERS[(name, from_version)] = step
        return step

    return register


def upcast(contract: type[Message], version: int, data: dict) -> dict:
    """`data` written as `version` of `contract`, as the current version's data."""
    name = contract.type_name()
    if version > contract.version or version < 1:
        raise UnknownVersion(
            f"{name} version {version} is not one this code reads (it reads 1 to "
            f"{contract.version})"
        )
    for step in range(version, contract.version):
        if (name, step) not in _UPCASTERS:
            raise UnknownVersion(f"{name} has no upcaster from version {step}")
        try:
            data = _UPCASTERS[(name, step)](data)
        # An upcaster reads data nobody has validated yet: whatever it raises means the
        # record is not a readable version `step` (and is dead-lettered as invalid).
        except Exception as exc:
            raise UnknownVersion(
                f"{name} version {step} could not be upcast: {type(exc).__name__}: {exc}"
            ) from exc
    return data


def missing_upcasters() -> list[str]:
    """Version steps some contract lacks an upcaster for (a start-up check reports them)."""
    return [
        f"{cls.type_name()} from version {step} to {step + 1}"
        for cls in _TYPES.values()
        for step in range(1, cls.version)
        if (cls.type_name(), step) not in _UPCASTERS
    ]
