"""Finding conversations: from whatever a staff user pasted, or the latest ones."""

from dataclasses import dataclass
from datetime import datetime, timedelta
from uuid import UUID

from django.db.models import Count, Max, Min, OuterRef, Q, Subquery

from .models import MessageRecord
from .search import customer_correlations, search_filter

LIMIT = 50  # conversations found by a search
LATEST = 25  # conversations listed before anything is searched


@dataclass(frozen=True)
class ConversationSummary:
    correlation_id: UUID
    started: datetime | None
    finished: datetime | None
    messages: int
    # What the conversation is about: the key of the message that started it.
    key: str
    first_type: str

    @property
    def duration(self) -> timedelta | None:
        return self.finished - self.started if self.started and self.finished else None


def find_conversations(term: str) -> list[ConversationSummary]:
    """Conversations any message of which matches `term` (an id, a reference, an email)."""
    term = term.strip()
    if "@" in term:
        # The customer's facts carry the correlation ids: no need to go back to the log.
        matches = customer_correlations(term)
    elif condition := search_filter(term):
        matches = MessageRecord.objects.filter(condition)
    else:
        return []
    correlation_ids = (
        matches.filter(correlation_id__isnull=False)
        .order_by()
        .values_list("correlation_id", flat=True)
        .distinct()[:LIMIT]
    )
    return summaries(list(correlation_ids))


def latest_conversations() -> list[ConversationSummary]:
    """The conversations started last: those of the latest messages nothing caused."""
    correlation_ids = (
        MessageRecord.objects.filter(causation_id=None, correlation_id__isnull=False)
        .order_by("-id")
        .values_list("correlation_id", flat=True)[:LATEST]
    )
    return summaries(list(dict.fromkeys(correlation_ids)))


def summaries(correlation_ids: list[UUID]) -> list[ConversationSummary]:
    rows = (
        MessageRecord.objects.filter(correlation_id__in=correlation_ids)
        .order_by()
        .values("correlation_id")
        .annotate(
            started=Min("time"),
            finished=Max("time"),
            messages=Count("message_id", distinct=True),
            key=Min("key", filter=Q(causation_id=None)),
            # The earliest message nothing caused (a later one may be, say, a CancelOrder).
            first_type=Subquery(
                MessageRecord.objects.filter(
                    correlation_id=OuterRef("correlation_id"), causation_id=None
                )
                .order_by("time", "id")
                .values("type")[:1]
            ),
        )
    )
    found = [
        ConversationSummary(
            r["correlation_id"],
            r["started"],
            r["finished"],
            r["messages"],
            r["key"] or "",
            r["first_type"] or "",
        )
        for r in rows
    ]
    return sorted(found, key=lambda s: (s.started is not None, s.started), reverse=True)
