"""The benchmark's broker can be started again empty, on the same port, between scenarios
(benchmarks.setup.fresh): Tansu's memory storage costs more per record the more it holds."""

from pathlib import Path

from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer, TopicPartition
from kafka.admin import NewTopic

from benchmarks.stack import Servers
from devstack.processes import free_ports
from devstack.servers import start_kafka


def end_offset(url: str, topic: str) -> int | None:
    consumer = KafkaConsumer(bootstrap_servers=url)
    try:
        if not consumer.partitions_for_topic(topic):
            return None
        partition = TopicPartition(topic, 0)
        return consumer.end_offsets([partition])[partition]
    finally:
        consumer.close()


def test_a_restarted_broker_listens_where_it_did_and_holds_nothing(tmp_path: Path) -> None:
    [port] = free_ports(1)
    stopped: list[str] = []
    servers = Servers(tmp_path, start_kafka(tmp_path, port), lambda: stopped.append("the rest"))
    first = servers.broker
    try:
        admin = KafkaAdminClient(bootstrap_servers=first.url)
        admin.create_topics([NewTopic("bench.check", num_partitions=1, replication_factor=1)])
        admin.close()
        producer = KafkaProducer(bootstrap_servers=first.url)
        for n in range(3):
            producer.send("bench.check", value=b"%d" % n).get(timeout=30)
        producer.close()
        assert end_offset(first.url, "bench.check") == 3

        servers.restart_broker()

        assert not first.running()
        assert servers.broker.url == first.url
        assert end_offset(servers.broker.url, "bench.check") is None  # not even the topic
    finally:
        servers.stop()
    assert stopped == ["the rest"]
    assert not servers.broker.running()
