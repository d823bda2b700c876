"""Message contracts: the base classes every app's contract module builds on.

A *command* asks its one handler to do something and may be refused; an *event*
states a fact that already happened and may interest anyone. Each concrete message
is a frozen, validated pydantic model declared by the app that owns it; its CloudEvents
type is "<owning app>.<ClassName>", e.g. "shop.OrderPlaced".
"""

from typing import ClassVar, Literal

from pydantic import BaseModel, ConfigDict

MessageKind = Literal["command", "event"]

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

    @property
    def key(self) -> str:
        """The aggregate id as the Kafka key, so one aggregate's messages share a partition."""
        return str(getattr(self, self.key_field))


class Command(Message):
    abstract = True
    kind = "command"


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
