"""Delivering a notification: at least once, with a deduplication key.

A mail server or an SMS gateway cannot take part in our transaction, so nothing can send
exactly once: a worker can die after the provider accepted a message and before it
recorded that. What this module guarantees instead:

- One task for what was decided together: an order's email and text, and those of the
  other orders a consumer's batch handled (messaging.oncommit), up to DELIVERY_BATCH: one
  claim, a send each, one mark, so ten notifications cost a Celery task and two
  transactions, not ten and twenty. A failed handling's notifications roll back with it
  and are never in a task.
- One attempt at a time. An attempt claims the row (pending -> sending, attempts + 1,
  claimed_at starts its lease) and commits; sends outside any transaction; then marks it
  sent and announces it (EmailSent/TextSent through the outbox) in a second transaction.
  A task that finds the row sent, failed, claimed or not due yet does nothing.
- The same key on every attempt (`dedup_key`: the email's Message-ID, the text's
  idempotency key), so a provider that deduplicates recognises a repeat (the demo's
  backends do) and mail clients can tell a repeated email from a new one.
- Nothing stuck, nothing silent. A failed attempt records its error and when the next is
  due, and schedules it (exponential backoff); after DELIVERY_ATTEMPTS the row is left
  failed for a person. A claim whose lease ended (its worker died between claiming and
  marking sent, maybe after sending) is found by the sweep and sent again with its key.
- One retry chain per row. The sweep queues only a row whose attempt is overdue (its task
  was lost) or whose lease ended, and makes it due now, so the next sweep leaves it while
  that task waits; an early or duplicate task ends at the claim.

Decided against: sending in the transaction that marks the row sent (the first version).
A crash after the send rolled the mark back, and the message went again with nothing to
recognise it by; and the row stayed locked for as long as the mail server took.
"""

import logging
from collections.abc import Callable
from datetime import timedelta
from email.utils import parseaddr
from time import monotonic

from celery import current_app
from django.conf import settings
from django.core.mail import EmailMessage
from django.core.mail.utils import DNS_NAME
from django.db import connection, transaction
from django.db.models import Q
from django.db.models.functions import Now

from messaging import oncommit, outbox, tracing
from messaging.metadata import CauseRef

from . import conf
from .backends import forget_sent, send_text
from .contracts import EmailSent, TextSent
from .models import ErasedOrder, Notification

logger = logging.getLogger(__name__)

Status = Notification.Status

# A task this early is still the one that was scheduled: countdowns run on the workers'
# clocks, while next_attempt_at is on the database's.
EARLY_TOLERANCE = timedelta(seconds=1)
# Lost deliveries queued again per sweep; the rest on the next sweep.
SWEEP_BATCH = 500
# The most notifications one task attempts (a batch's, the sweep's, an operator's
# retries): its sends run one after another, so a slow provider's time adds up in one
# task (what half a lease does not cover is given back, for a task of its own), while
# fewer tasks are what made a busy notifications worker keep up.
DELIVERY_BATCH = 10


def notification_deliver(*, notification_id: int) -> Notification:
    """Make one attempt to deliver a notification, if it is due; call it outside a transaction."""
    [notification] = notifications_deliver(ids=[notification_id])
    return notification


def notifications_deliver(
    *, ids: list[int], traces: dict[str, dict[str, str]] | None = None
) -> list[Notification]:
    """Make one attempt at each of these notifications that is due (those decided
    together, by one handling or by a consumer's batch): one claim and one mark for all
    of them, a send each between. Returns them as they are afterwards; call it outside a
    transaction. `traces` holds, by id, the trace each was decided in (`schedule`).

    The sends run one after another; once half the lease has gone by, the ones not sent
    yet are given back (due now, a task of their own) rather than outlive their claim.
    """
    traces = traces or {}
    rows, claimed = _claim(ids)
    lease = conf.get("LEASE_SECONDS")
    started = monotonic()
    sent = []
    for i, notification in enumerate(claimed):
        if i and monotonic() - started > lease / 2:
            _give_back(claimed[i:], traces)
            break
        with tracing.resumed(traces.get(str(notification.id)), "deliver notification"):
            try:
                sent.append((notification, _send(notification)))
            # A mail server or gateway can fail in many ways; each is worth another try with
            # the same key, which makes a try harmless even if the failed one did get through.
            except Exception as exc:
                rows[notification.id] = _record_failure(notification, exc)
    rows |= {notification.id: notification for notification in _mark_sent(sent, traces)}
    return [rows[i] for i in ids if i in rows]


def notifications_stuck() -> list[int]:
    """Queue again the deliveries that were lost (the scheduler's safety net); returns their ids.

    A pending row is lost when its attempt is OVERDUE_SECONDS late: its Celery task went
    with a worker or a Redis restart. A sending row is lost when its lease has ended: its
    worker died between claiming it and marking it sent, perhaps after sending, so it is
    sent again with the same key, which the provider recognises. A row whose retry is
    still waiting, or whose attempt is in progress, is left alone.
    """
    overdue = timedelta(seconds=conf.get("OVERDUE_SECONDS"))
    lease = timedelta(seconds=conf.get("LEASE_SECONDS"))
    queued = []
    with transaction.atomic():
        lost = (
            Notification.objects.select_for_update(skip_locked=True)
            .annotate(db_now=Now())
            .filter(
                Q(status=Status.PENDING, next_attempt_at__lte=Now() - overdue)
                # No time at all: a row made pending by hand. Without one it would wait forever.
                | Q(status=Status.PENDING, next_attempt_at=None)
                | Q(status=Status.SENDING, claimed_at__lte=Now() - lease)
            )
            .order_by("id")[:SWEEP_BATCH]
        )
        for notification in lost:
            if notification.status == Status.SENDING:
                claimed_at = f"{notification.claimed_at:%Y-%m-%d %H:%M:%S %Z}"
                notification.last_error = (
                    f"Attempt {notification.attempts}, claimed at {claimed_at}, did not finish "
                    "within its lease (its worker died?)"
                )
                if notification.attempts >= conf.get("DELIVERY_ATTEMPTS"):
                    _give_up(notification)
                    continue
                logger.warning(
                    "Notification %s: recovering attempt %d, which did not finish within its "
                    "lease; delivering again with the same key %s",
                    notification.id,
                    notification.attempts,
                    notification.dedup_key,
                )
            # Due now: the task queued here is the row's one retry chain.
            notification.status = Status.PENDING
            notification.next_attempt_at = notification.db_now
            notification.save(update_fields=["status", "next_attempt_at", "last_error"])
            queued.append(notification.id)
        for start in range(0, len(queued), DELIVERY_BATCH):
            schedule(queued[start : start + DELIVERY_BATCH])
    return queued


def notifications_retry(*, ids: list[int]) -> int:
    """Deliver failed notifications again, with their own keys (an operator's decision).

    Each gets DELIVERY_ATTEMPTS more attempts. Unlike "send again" (SendEmail/SendText,
    a new notification with a new key), a repeat of a message that did get through after
    all is still recognised.
    """
    with transaction.atomic():
        failed = list(
            Notification.objects.select_for_update()
            .annotate(db_now=Now())
            .filter(id__in=ids, status=Status.FAILED)
            # Nobody to send to any more.
            .exclude(order_id__in=ErasedOrder.objects.values("order_id"))
        )
        for notification in failed:
            notification.status = Status.PENDING
            notification.attempts = 0
            notification.next_attempt_at = notification.db_now
            notification.save(update_fields=["status", "attempts", "next_attempt_at"])
        for start in range(0, len(failed), DELIVERY_BATCH):
            schedule([n.id for n in failed[start : start + DELIVERY_BATCH]])
    return len(failed)


def _key_domain() -> str:
    """The domain of a notification's key: the sender's, or this host's name."""
    return parseaddr(settings.DEFAULT_FROM_EMAIL)[1].rpartition("@")[2] or str(DNS_NAME)


def _claim(ids: list[int]) -> tuple[dict[int, Notification], list[Notification]]:
    """Claim the rows that are due (pending -> sending) in one statement; returns every row
    by id, and the claimed ones. A row sent, failed, claimed by an attempt in progress, or
    not due yet (an early or duplicate task: the scheduled one will come) is left as it is.

    The first claim fixes the row's key, `notification-<id>.<order ref>@<domain>`, unique
    to one notification: the order's reference keeps it unique where ids are reused (a
    database reset), so a provider's memory of an old key cannot swallow a new message, and
    a later change of DEFAULT_FROM_EMAIL keeps the keys already given.
    """
    claimed = sorted(
        Notification.objects.raw(
            _CLAIM, [Status.SENDING, _key_domain(), ids, Status.PENDING, EARLY_TOLERANCE]
        ),
        key=lambda n: n.id,
    )
    return _with_the_rest(ids, claimed), claimed


# Rows are locked in id order (the subquery), so two attempts never wait for each other
# crosswise; one that waited finds the row claimed and leaves it.
_CLAIM = f"""
UPDATE {Notification._meta.db_table} SET status = %s, attempts = attempts + 1,
    claimed_at = STATEMENT_TIMESTAMP(), next_attempt_at = NULL,
    dedup_key = CASE WHEN dedup_key = '' THEN concat(
        'notification-', id, '.', upper(left(order_id::text, 8)), '@', %s::text
    ) ELSE dedup_key END
WHERE id IN (
    SELECT id FROM {Notification._meta.db_table} WHERE id = ANY(%s) ORDER BY id FOR UPDATE
) AND status = %s
    AND (next_attempt_at IS NULL OR next_attempt_at <= STATEMENT_TIMESTAMP() + %s)
RETURNING *
"""


def _with_the_rest(ids: list[int], rows: list[Notification]) -> dict[int, Notification]:
    """`rows` by id, with the others of `ids` as they are (those a statement left alone)."""
    found = {n.id: n for n in rows}
    missing = [i for i in ids if i not in found]
    return found | (
        {n.id: n for n in Notification.objects.filter(id__in=missing)} if missing else {}
    )


def _give_back(claimed: list[Notification], traces: dict[str, dict[str, str]]) -> None:
    """Claimed but not attempted: pending again, due now, with the attempt not counted,
    each still in the trace it was decided in."""
    with transaction.atomic():
        for notification in claimed:
            Notification.objects.filter(
                id=notification.id, status=Status.SENDING, attempts=notification.attempts
            ).update(
                status=Status.PENDING,
                attempts=notification.attempts - 1,
                claimed_at=None,
                next_attempt_at=Now(),
            )
        schedule([notification.id for notification in claimed], traces=traces)


def _send(notification: Notification) -> bool:
    """Send outside any transaction; False if the provider had this key delivered already."""
    if notification.channel == Notification.Channel.EMAIL:
        message = EmailMessage(
            notification.subject,
            notification.body,
            settings.DEFAULT_FROM_EMAIL,
            [notification.to],
            headers={"Message-ID": f"<{notification.dedup_key}>"},
        )
        return message.send() > 0
    return send_text(
        to=notification.to, body=notification.body, idempotency_key=notification.dedup_key
    )


def _mark_sent(
    sent: list[tuple[Notification, bool]], traces: dict[str, dict[str, str]]
) -> list[Notification]:
    """Mark sent, and announce (EmailSent/TextSent, each in its notification's trace),
    what these attempts delivered."""
    if not sent:
        return []
    delivered_now = {notification.id: now for notification, now in sent}
    _reconnect_if_broken()
    with transaction.atomic():
        # Whatever the row says now (a later attempt may hold it), this send happened; one
        # a later attempt marked sent (this one's lease had ended) was announced by it.
        marked = list(
            Notification.objects.raw(_MARK, [Status.SENT, list(delivered_now), Status.SENT])
        )
        with outbox.bulk() as announce:  # the batch's announcements in one INSERT
            for notification in sorted(marked, key=lambda n: n.id):
                _announce(notification, delivered_now[notification.id], announce, traces)
    return list(_with_the_rest(list(delivered_now), marked).values())


_MARK = f"""
UPDATE {Notification._meta.db_table} AS n SET status = %s, sent_at = STATEMENT_TIMESTAMP(),
    next_attempt_at = NULL
WHERE id IN (
    SELECT id FROM {Notification._meta.db_table} WHERE id = ANY(%s) ORDER BY id FOR UPDATE
) AND n.status <> %s
RETURNING n.*, EXISTS (
    SELECT FROM {ErasedOrder._meta.db_table} e WHERE e.order_id = n.order_id
) AS erased
"""


def _announce(
    notification: Notification,
    delivered_now: bool,
    announce: Callable[..., object],
    traces: dict[str, dict[str, str]],
) -> None:
    """Announce one notification marked sent, in its own trace."""
    if not delivered_now:
        logger.info(
            "Notification %s: the provider already had %s; an earlier attempt delivered it",
            notification.id,
            notification.dedup_key,
        )
    if notification.erased:
        # Its customer was erased while this attempt was sending: what the backend kept of
        # it goes too (the row itself was erased then).
        forget_sent(key=notification.dedup_key)
    with tracing.resumed(traces.get(str(notification.id)), "announce notification"):
        announce(
            _announcement(notification),
            caused_by=CauseRef(notification.caused_by, notification.correlation_id),
        )


def _announcement(notification: Notification) -> EmailSent | TextSent:
    sent = EmailSent if notification.channel == Notification.Channel.EMAIL else TextSent
    return sent(order_id=notification.order_id, about=notification.kind, to=notification.to)


def _record_failure(claimed: Notification, exc: Exception) -> Notification:
    error = f"{type(exc).__name__}: {exc}"
    logger.warning(
        "Notification %s: attempt %d failed: %s", claimed.id, claimed.attempts, _loggable(error)
    )
    _reconnect_if_broken()
    with transaction.atomic():
        [notification] = _locked([claimed.id])
        if notification.status != Status.SENDING or notification.attempts != claimed.attempts:
            return notification  # this attempt outlived its lease; a later one owns the row
        notification.last_error = error
        if notification.attempts >= conf.get("DELIVERY_ATTEMPTS"):
            _give_up(notification)
            return notification
        delay = _backoff(notification.attempts)
        notification.status = Status.PENDING
        notification.next_attempt_at = notification.db_now + delay
        notification.save(update_fields=["status", "next_attempt_at", "last_error"])
        schedule([notification.id], countdown=delay.total_seconds())
    return notification


def _give_up(notification: Notification) -> None:
    logger.error(
        "Notification %s: given up after %d attempts: %s",
        notification.id,
        notification.attempts,
        _loggable(notification.last_error),
    )
    notification.status = Status.FAILED
    notification.next_attempt_at = None
    notification.save(update_fields=["status", "next_attempt_at", "last_error"])


def _loggable(error: str) -> str:
    """An error as a log line may carry it: a provider's by its kind only, since its message
    tends to quote the address or number (the row keeps it whole, for the admin); our own
    words whole."""
    kind, colon, _ = error.partition(": ")
    return kind if colon and kind.isidentifier() else error


def _locked(ids: list[int]) -> list[Notification]:
    """The rows, locked until the transaction ends (in id order, so two attempts never wait
    for each other crosswise), with the database's time as `db_now`."""
    return list(
        Notification.objects.select_for_update()
        .annotate(db_now=Now())
        .filter(id__in=ids)
        .order_by("id")
    )


def _backoff(attempts: int) -> timedelta:
    base = conf.get("RETRY_BACKOFF_SECONDS")
    return timedelta(seconds=min(base * 2 ** (attempts - 1), conf.get("RETRY_BACKOFF_MAX_SECONDS")))


def schedule(
    notification_ids: list[int],
    *,
    countdown: float = 0.0,
    traces: dict[str, dict[str, str]] | None = None,
) -> None:
    """An attempt at the notifications, once the transaction commits: in `countdown`
    seconds, in one task; or, due now, in tasks of up to DELIVERY_BATCH together with what
    the other handlings of a consumer's batch decided (messaging.oncommit).

    Each notification keeps the trace it was decided in (`tracing.carrier`, or `traces`
    by id when it was decided elsewhere): a task of several orders' notifications runs in
    the first one's trace and delivers each of the others in a span of its own order's
    trace.
    """
    if not notification_ids:
        return
    if not countdown:
        here = tracing.carrier()
        items = [(i, (traces or {}).get(str(i), here)) for i in notification_ids]
        oncommit.together(_send_tasks, items)
        return
    ids = list(notification_ids)
    transaction.on_commit(
        lambda: current_app.send_task("notifications.deliver", (ids,), countdown=countdown)
    )


def _send_tasks(items: list[tuple[int, dict[str, str]]]) -> None:
    """Delivery tasks for these (id, trace) pairs, in order, DELIVERY_BATCH ids each.

    The task (notifications.tasks.deliver) is named rather than imported: tasks are the
    entrypoints that call this module.
    """
    for start in range(0, len(items), DELIVERY_BATCH):
        chunk = items[start : start + DELIVERY_BATCH]
        ids = [i for i, _ in chunk]
        traces = {str(i): fields for i, fields in chunk if fields}
        with tracing.within(chunk[0][1]):
            current_app.send_task(
                "notifications.deliver", (ids,), {"traces": traces} if traces else None
            )


def _reconnect_if_broken() -> None:
    # The demo's backends write to this database: a send that failed because the connection
    # was cut leaves it unusable, and a new one is needed to record what happened.
    if not connection.in_atomic_block:
        connection.close_if_unusable_or_obsolete()
