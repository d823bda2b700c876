"""The embedded servers start for real, answer real clients, and really stop.

No Django here: these talk to the servers with psycopg, redis-py and kafka-python only.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import psycopg
import pytest
import redis
from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer, TopicPartition
from kafka.admin import NewTopic

from devstack.processes import (
    DevstackError,
    Service,
    accepts_connections,
    exclusive,
    free_ports,
    is_locked,
)
from devstack.servers import (
    HOST,
    embedded_servers,
    start_for_tests,
    start_kafka,
    start_postgres,
    start_redis,
)

ROOT = Path(__file__).resolve().parents[2]
URL_VARIABLES = ("DATABASE_URL", "CELERY_BROKER_URL", "KAFKA_BOOTSTRAP_SERVERS")


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "var"


def assert_stopped(service: Service, port: int) -> None:
    assert service.popen.poll() is not None
    assert not accepts_connections(HOST, port)
    assert not service.pid_file.exists()


def test_postgres_answers_keeps_its_data_and_stops(data_dir: Path) -> None:
    [port] = free_ports(1)
    postgres = start_postgres(data_dir, port, durable=False)
    try:
        assert postgres.url == f"postgresql://postgres@{HOST}:{port}/shop"
        with psycopg.connect(postgres.url, autocommit=True) as conn:
            assert conn.execute("SELECT current_database(), 1").fetchone() == ("shop", 1)
            conn.execute("CREATE TABLE kept (n int); INSERT INTO kept VALUES (42)")
    finally:
        postgres.stop()
    assert_stopped(postgres, port)

    again = start_postgres(data_dir, port, durable=False)
    try:
        with psycopg.connect(again.url) as conn:
            assert conn.execute("SELECT n FROM kept").fetchone() == (42,)
    finally:
        again.stop()
    assert_stopped(again, port)


def test_redis_answers_ping_and_stops(data_dir: Path) -> None:
    [port] = free_ports(1)
    server = start_redis(data_dir, port)
    try:
        client = redis.Redis.from_url(server.url)
        assert client.ping()
        client.close()
    finally:
        server.stop()
    assert_stopped(server, port)


def test_kafka_round_trips_a_record_with_headers_and_stops(data_dir: Path) -> None:
    [port] = free_ports(1)
    broker = start_kafka(data_dir, port)
    try:
        admin = KafkaAdminClient(bootstrap_servers=broker.url)
        admin.create_topics([NewTopic("devstack.check", num_partitions=1, replication_factor=1)])
        admin.close()
        producer = KafkaProducer(bootstrap_servers=broker.url)
        producer.send(
            "devstack.check", key=b"order-1", value=b'{"ok": true}', headers=[("ce_type", b"t")]
        ).get(timeout=30)
        producer.close()

        consumer = KafkaConsumer(bootstrap_servers=broker.url)
        partition = TopicPartition("devstack.check", 0)
        consumer.assign([partition])
        consumer.seek_to_beginning(partition)
        records = []
        deadline = time.monotonic() + 30
        while not records and time.monotonic() < deadline:
            records = consumer.poll(timeout_ms=500).get(partition, [])
        consumer.close()
        [record] = records
        assert (record.key, record.value) == (b"order-1", b'{"ok": true}')
        assert record.headers == [("ce_type", b"t")]
    finally:
        broker.stop()
    assert_stopped(broker, port)


def test_a_taken_port_is_reported_with_what_to_do(data_dir: Path) -> None:
    with socket.socket() as squatter:
        squatter.bind((HOST, 0))
        squatter.listen()
        port = squatter.getsockname()[1]
        with pytest.raises(DevstackError, match=rf"Port {port} .*CELERY_BROKER_URL"):
            start_redis(data_dir, port)


def test_start_for_tests_starts_all_three_and_stop_stops_them(tmp_path: Path) -> None:
    env, stop = start_for_tests(tmp_path)
    try:
        assert set(env) == set(URL_VARIABLES)
        ports = [_port(value) for value in env.values()]
        assert all(accepts_connections(HOST, port) for port in ports)
    finally:
        stop()
    assert not any(accepts_connections(HOST, port) for port in ports)


def test_only_the_servers_the_environment_lacks_are_started(
    data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgresql://elsewhere/shop")
    monkeypatch.setenv("CELERY_BROKER_URL", "redis://elsewhere/0")
    monkeypatch.delenv("KAFKA_BOOTSTRAP_SERVERS", raising=False)
    postgres_port, redis_port, kafka_port = free_ports(3)
    with embedded_servers(
        data_dir, postgres_port=postgres_port, redis_port=redis_port, kafka_port=kafka_port
    ) as started:
        assert started == {"KAFKA_BOOTSTRAP_SERVERS": f"{HOST}:{kafka_port}"}
        assert accepts_connections(HOST, kafka_port)
        assert not accepts_connections(HOST, postgres_port)
        assert not accepts_connections(HOST, redis_port)
    assert not accepts_connections(HOST, kafka_port)


def test_a_second_supervisor_of_the_same_folder_is_refused(data_dir: Path) -> None:
    holder = _python(
        "from pathlib import Path; import sys; from devstack.processes import exclusive\n"
        "with exclusive(Path(sys.argv[1])):\n"
        "    print('held', flush=True); sys.stdin.read()",
        str(data_dir),
    )
    try:
        assert holder.stdout.readline() == "held\n"
        assert is_locked(data_dir)
        with pytest.raises(DevstackError, match=f"pid {holder.pid}"), exclusive(data_dir):
            pass
    finally:
        holder.communicate(timeout=30)
    assert not is_locked(data_dir)


def test_sigterm_stops_the_servers_it_started(data_dir: Path) -> None:
    [port] = free_ports(1)
    child = _python(
        f"""
        import os, sys
        from pathlib import Path
        from devstack.servers import embedded_servers
        os.environ.update(DATABASE_URL="x", CELERY_BROKER_URL="x")
        os.environ.pop("KAFKA_BOOTSTRAP_SERVERS", None)
        with embedded_servers(Path(sys.argv[1]), kafka_port={port}):
            print("up", flush=True)
            sys.stdin.read()
        """,
        str(data_dir),
    )
    assert child.stdout.readline() == "up\n"
    assert accepts_connections(HOST, port)
    child.send_signal(signal.SIGTERM)
    child.communicate(timeout=30)
    assert not accepts_connections(HOST, port)
    assert not list((data_dir / "run").glob("*.pid"))


def test_a_killed_supervisors_servers_are_stopped_by_the_next_one(
    data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ports = free_ports(3)
    # A supervisor that dies by SIGKILL: no cleanup runs, its servers stay up.
    doomed = _python(
        """
        import os, signal, sys
        from pathlib import Path
        from devstack.servers import embedded_servers
        for name in ("DATABASE_URL", "CELERY_BROKER_URL", "KAFKA_BOOTSTRAP_SERVERS"):
            os.environ.pop(name, None)
        p, r, k = map(int, sys.argv[2:])
        with embedded_servers(Path(sys.argv[1]), postgres_port=p, redis_port=r, kafka_port=k,
                              durable=False):
            os.kill(os.getpid(), signal.SIGKILL)
        """,
        str(data_dir),
        *map(str, ports),
    )
    doomed.communicate(timeout=60)
    assert doomed.returncode == -signal.SIGKILL
    assert all(accepts_connections(HOST, port) for port in ports)
    leftover_pids = [json.loads(path.read_text())["pid"] for path in (data_dir / "run").glob("*")]
    assert len(leftover_pids) == 3

    for name in URL_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    postgres_port, redis_port, kafka_port = ports
    with embedded_servers(
        data_dir,
        postgres_port=postgres_port,
        redis_port=redis_port,
        kafka_port=kafka_port,
        durable=False,
    ) as started:
        assert set(started) == set(URL_VARIABLES)
        for pid in leftover_pids:
            assert not _alive(pid)
        with psycopg.connect(started["DATABASE_URL"]) as conn:
            assert conn.execute("SELECT 1").fetchone() == (1,)
    assert not any(accepts_connections(HOST, port) for port in ports)


def _python(code: str, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(code), *args],
        cwd=ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )


def _port(url: str) -> int:
    return int(url.rsplit(":", 1)[1].split("/")[0])


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    stat = Path(f"/proc/{pid}/stat")
    return not (stat.exists() and stat.read_text().rsplit(")", 1)[1].split()[0] == "Z")
