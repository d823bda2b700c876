"""Celery tasks of the platform: thin entrypoints into retrying and dead letters."""

from celery import shared_task

from . import deadletters, heartbeats, retention, retrying


@shared_task(name="messaging.retry_parked")
def retry_parked(group_name: str, key: str) -> None:
    retrying.retry(group_name, key)


@shared_task(name="messaging.retry_due")
def retry_due() -> int:
    return retrying.retry_due()


@shared_task(name="messaging.publish_dead_letters", bind=True, max_retries=None)
def publish_dead_letters(self) -> int:
    try:
        return deadletters.publish_pending()
    # The broker may be away; the rows stay unpublished and this tries again later.
    except Exception as exc:
        raise self.retry(exc=exc, countdown=min(2**self.request.retries, 60)) from exc


@shared_task(name="messaging.redeliver_dead_letter")
def redeliver_dead_letter(letter_id: int, by: str) -> str:
    return str(retrying.redeliver_dead_letter(letter_id, by=by))


@shared_task(name="messaging.forget_silent_processes")
def forget_silent_processes() -> int:
    return heartbeats.forget_silent()


@shared_task(name="messaging.purge_messages")
def purge_messages() -> int:
    try:
        return retention.purge().deleted
    except retention.PurgeRunning:
        return 0  # the purge running now, by hand or an earlier beat, does this one's work
