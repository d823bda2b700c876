"""The message log's filters. Their choices come from the contracts, not from the table:
Django's default field filter runs SELECT DISTINCT over every row on every page."""

from datetime import timedelta

from django.contrib import admin
from django.db.models import Exists, OuterRef, Q, Subquery
from django.utils import timezone

from messaging.contracts import all_message_classes, contract_topics
from messaging.models import DeadLetter, HandlingFailure, InboxEntry, ParkedRecord
from messaging.registry import groups

from ..models import MessageRecord
from ..outcomes import followers


class KindFilter(admin.SimpleListFilter):
    title = "kind"
    parameter_name = "kind"

    def lookups(self, request, model_admin):
        return [("command", "command"), ("event", "event")]

    def queryset(self, request, queryset):
        return queryset.filter(kind=self.value()) if self.value() else queryset


class RecordKindFilter(KindFilter):
    """Kinds of records read from Kafka, which include records nobody could read."""

    def lookups(self, request, model_admin):
        return [*super().lookups(request, model_admin), ("bad", "unreadable record")]

    def queryset(self, request, queryset):
        if self.value() == "bad":
            return queryset.filter(message_id=None)
        return super().queryset(request, queryset)


class TypeFilter(admin.SimpleListFilter):
    title = "type"
    parameter_name = "type"

    def lookups(self, request, model_admin):
        return [(name, name) for name in sorted(m.type_name() for m in all_message_classes())]

    def queryset(self, request, queryset):
        return queryset.filter(type=self.value()) if self.value() else queryset


class TopicFilter(admin.SimpleListFilter):
    title = "topic"
    parameter_name = "topic"

    def lookups(self, request, model_admin):
        return [(topic, topic) for topic in contract_topics()]

    def queryset(self, request, queryset):
        return queryset.filter(topic=self.value()) if self.value() else queryset


class AppFilter(admin.SimpleListFilter):
    """The app that owns the message: sends the event, or handles the command."""

    title = "app"
    parameter_name = "app"

    def lookups(self, request, model_admin):
        return [(app, app) for app in sorted({m.source for m in all_message_classes()})]

    def queryset(self, request, queryset):
        return queryset.filter(source=self.value()) if self.value() else queryset


class GroupFilter(admin.SimpleListFilter):
    title = "consumer group"
    parameter_name = "group"

    def lookups(self, request, model_admin):
        return [(name, name) for name in sorted(groups())]

    def queryset(self, request, queryset):
        return queryset.filter(group=self.value()) if self.value() else queryset


class PublishedFilter(admin.SimpleListFilter):
    title = "published"
    parameter_name = "published"

    def lookups(self, request, model_admin):
        return [
            ("no", "waiting for the relay"),
            ("yes", "published"),
            ("refused", "refused by Kafka"),
            ("skipped", "skipped"),
        ]

    def queryset(self, request, queryset):
        return {
            "no": queryset.pending,
            "yes": lambda: queryset.filter(published_at__isnull=False),
            "refused": queryset.refused,
            "skipped": lambda: queryset.filter(skipped_at__isnull=False),
        }.get(self.value(), lambda: queryset)()


# The outcome filters start from the small tables (dead letters, failures, duplicates) and
# look records up by index, so their cost follows the number of problems, not of messages.


def _dead_lettered() -> Q:
    records = DeadLetter.objects.annotate(
        record=Subquery(
            MessageRecord.objects.filter(
                topic=OuterRef("topic"), partition=OuterRef("partition"), offset=OuterRef("offset")
            ).values("pk")[:1]
        )
    )
    return Q(pk__in=records.values("record"))


def _failed_attempts() -> Q:
    return Q(message_id__in=HandlingFailure.objects.values("message_id"))


def _problem() -> Q:
    failed = MessageRecord.objects.filter(_failed_attempts()).values("pk")
    dead = MessageRecord.objects.filter(_dead_lettered()).values("pk")
    return Q(pk__in=failed.union(dead))


def _duplicates() -> Q:
    return Q(message_id__in=InboxEntry.objects.filter(duplicates__gt=0).values("message_id"))


def _parked() -> Q:
    return Q(message_id__in=ParkedRecord.objects.values("message_id"))


PENDING_WINDOW = timedelta(days=1)


def _pending() -> Q:
    """A group that follows the message's type has neither handled nor dead-lettered it.

    Only recent messages: absence cannot be looked up by index, so this scans, and a
    message waits only while its group lags (the operations page shows a stopped group).
    """
    pending = Q(pk__in=[])
    for message in all_message_classes():
        for group in followers(message.type_name()):
            done = Exists(
                InboxEntry.objects.filter(group=group, message_id=OuterRef("message_id"))
            ) | Exists(
                DeadLetter.objects.filter(
                    group=group,
                    topic=OuterRef("topic"),
                    partition=OuterRef("partition"),
                    offset=OuterRef("offset"),
                )
            )
            pending |= Q(type=message.type_name()) & ~done
    return Q(time__gte=timezone.now() - PENDING_WINDOW) & pending


class OutcomeFilter(admin.SimpleListFilter):
    title = "outcome"
    parameter_name = "outcome"
    OUTCOMES = {
        "problem": ("something went wrong", _problem),
        "dead_lettered": ("dead-lettered by a group", _dead_lettered),
        "parked": ("retrying, waiting or queued", _parked),
        "failed": ("failed attempts", _failed_attempts),
        "duplicate": ("duplicate skipped", _duplicates),
        "pending": ("pending for a group (last 24 h)", _pending),
    }

    def lookups(self, request, model_admin):
        return [(value, label) for value, (label, _) in self.OUTCOMES.items()]

    def queryset(self, request, queryset):
        if self.value() not in self.OUTCOMES:
            return queryset
        _, condition = self.OUTCOMES[self.value()]
        return queryset.filter(condition())
