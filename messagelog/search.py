"""What a staff user pastes into the message log's search box, as a filter.

Only exact matches, each served by an index: an id (correlation, message or order: the
Kafka key), an order's short reference (the first characters of its id, as printed in
the customer's emails), a customer's email, or any other key (e.g. a SKU).
"""

import re
from uuid import UUID

from django.db.models import Q, QuerySet
from django.db.models.fields.json import KT
from django.db.models.functions import Lower

from .models import NAMES_A_CUSTOMER, MessageRecord

# Eight hex digits or more, up to a whole id with or without dashes typed so far.
_REFERENCE = re.compile(r"^[0-9a-f]{8}[0-9a-f-]{0,28}$")


def search_filter(term: str) -> Q | None:
    """A filter on MessageRecord for `term`, or None when the term is empty."""
    term = term.strip()
    if not term:
        return None
    as_uuid = _uuid(term)
    if as_uuid is not None:
        return Q(correlation_id=as_uuid) | Q(message_id=as_uuid) | Q(key=str(as_uuid))
    if "@" in term:
        return Q(correlation_id__in=customer_correlations(term).values("correlation_id"))
    if _REFERENCE.match(term.lower()):
        return Q(key__startswith=term.lower())
    return Q(key=term)


def customer_correlations(email: str) -> QuerySet:
    """The messages naming this customer email (case-insensitive), by the partial index."""
    return (
        MessageRecord.objects.filter(NAMES_A_CUSTOMER)
        .annotate(customer_email=Lower(KT("payload__customer__email")))
        .filter(customer_email=email.strip().lower())
    )


def _uuid(term: str) -> UUID | None:
    try:
        return UUID(term)
    except ValueError:
        return None
