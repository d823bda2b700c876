"""The notifications app's message contracts. Other apps may import this module only."""

from typing import Literal

from messaging.contracts import Event

Channel = Literal["email", "text"]


class NotificationsEvent(Event):
    abstract = True
    source = "notifications"
    topic = "notifications.events"


class EmailSent(NotificationsEvent):
    about: str  # which news: received, confirmed, dispatched, cancelled
    to: str


class TextSent(NotificationsEvent):
    about: str  # which news: received, confirmed, dispatched, cancelled
    to: str
