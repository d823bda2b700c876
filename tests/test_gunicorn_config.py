"""config.gunicorn: the web's processes start prometheus-client's multiprocess mode clean."""

import os

from config import gunicorn


def test_a_configured_directory_loses_only_the_last_runs_metric_files(tmp_path, monkeypatch):
    (tmp_path / "counter_123.db").write_bytes(b"old")
    (tmp_path / "notes.txt").write_text("kept")
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path / "."))

    gunicorn.on_starting(server=None)

    assert [p.name for p in tmp_path.iterdir()] == ["notes.txt"]


def test_without_one_the_processes_get_a_new_directory(monkeypatch):
    monkeypatch.delenv("PROMETHEUS_MULTIPROC_DIR", raising=False)

    gunicorn.on_starting(server=None)

    made = os.environ["PROMETHEUS_MULTIPROC_DIR"]
    assert os.path.isdir(made) and not os.listdir(made)
    os.rmdir(made)


def test_a_web_process_checks_no_connection_health_per_request(monkeypatch):
    """A round trip on every request; the web's settings read it before Django starts."""
    monkeypatch.delenv("DATABASE_CONN_HEALTH_CHECKS", raising=False)

    gunicorn.post_fork(server=None, worker=None)

    assert os.environ["DATABASE_CONN_HEALTH_CHECKS"] == "0"
    monkeypatch.setenv("DATABASE_CONN_HEALTH_CHECKS", "1")  # asked for: kept
    gunicorn.post_fork(server=None, worker=None)
    assert os.environ["DATABASE_CONN_HEALTH_CHECKS"] == "1"
