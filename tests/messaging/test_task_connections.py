"""A worker's tasks keep their database connection between tasks, as Django's requests do
(config.settings CELERY_DB_REUSE_MAX, messaging.worker): Celery's Django fixup, installed
here as a worker installs it, would otherwise close it before and after every task."""

import uuid

import pytest
from celery import signals
from celery.app.trace import build_tracer
from celery.fixups.django import DjangoWorkerFixup
from django.db import connection

from config.celery import app

pytestmark = pytest.mark.django_db(transaction=True)  # tasks run outside any transaction


@pytest.fixture
def worker_fixup():
    fixup = DjangoWorkerFixup(app).install()
    yield fixup
    for signal, handler in [
        (signals.beat_embedded_init, fixup.close_database),
        (signals.task_prerun, fixup.on_task_prerun),
        (signals.task_postrun, fixup.on_task_postrun),
        (signals.worker_process_init, fixup.on_worker_process_init),
    ]:
        signal.disconnect(handler)


@app.task(name="tests.backend_pid")
def backend_pid() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        return cursor.fetchone()[0]


def run(task) -> object:
    """The task as a worker's pool runs it (not eagerly)."""
    return build_tracer(task.name, task, app=app)(str(uuid.uuid4()), (), {}).retval


def test_a_workers_tasks_share_one_database_session(worker_fixup):
    pids = [run(backend_pid) for _ in range(3)]

    assert len(set(pids)) == 1, pids


def test_a_task_after_one_that_broke_its_connection_gets_a_new_one(worker_fixup):
    first = run(backend_pid)
    connection.close_at = 0  # as DATABASE_CONN_MAX_AGE ending (or a broken connection) would

    assert run(backend_pid) != first
