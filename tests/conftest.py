"""Fixtures every tier of the suite may use."""

import pytest
from celery import current_app


@pytest.fixture
def celery_tasks(monkeypatch) -> list[tuple[str, tuple, float]]:
    """The tasks handed to Celery, by name, as (name, args, countdown); none reaches Redis.

    Services name the tasks they schedule (`current_app.send_task`): tasks are the
    entrypoints above them, so importing one would make a cycle.
    """
    sent = []

    def send_task(name, args=(), kwargs=None, countdown=0.0, **options):
        sent.append((name, tuple(args), countdown))

    monkeypatch.setattr(current_app, "send_task", send_task)
    return sent
