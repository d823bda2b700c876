"""End offsets, which the broker's ListOffsets answer can get wrong (Tansu does)."""

import uuid

import pytest
from kafka import TopicPartition
from kafka.admin import NewTopic

from messaging.kafka import OffsetsUnknown, _listed, admin, end_offsets, producer, reader


def test_end_offsets_count_every_record_of_a_multi_record_batch():
    topic = f"offsets-{uuid.uuid4().hex[:8]}"
    client = admin()
    client.create_topics([NewTopic(topic, 2, 1)])
    client.close()
    kafka = producer(linger_ms=200)  # the five records travel in one batch
    for n in range(5):
        kafka.send(topic, key=b"same-key", value=str(n).encode())
    kafka.flush()
    kafka.close()
    consumer = reader()
    partitions = [TopicPartition(topic, 0), TopicPartition(topic, 1)]

    ends = end_offsets(consumer, partitions)

    consumer.close()
    assert sorted(ends.values()) == [0, 5]


def test_a_partition_a_group_never_committed_on_has_no_lag_while_empty():
    from kafka.structs import OffsetAndMetadata

    from messagelog.lag import PartitionLag, _offset

    never = _offset(OffsetAndMetadata(-1, "", -1))

    assert never is None
    assert PartitionLag("sales", "orders", 0, never, 0).lag == 0
    assert PartitionLag("sales", "orders", 0, never, 3).lag == 3
    assert PartitionLag("sales", "orders", 0, _offset(OffsetAndMetadata(2, "", -1)), 3).lag == 1


def test_offsets_are_asked_again_while_the_client_leaves_a_partition_out():
    # kafka-python leaves out a partition whose leader its metadata does not know yet and
    # then fails on it with a KeyError; a fault test's lag check stopped on one that way.
    tp = TopicPartition("orders", 0)
    answers = iter([KeyError(tp), {tp: 7}])

    def list_offsets(partitions):
        answer = next(answers)
        if isinstance(answer, Exception):
            raise answer
        return answer

    assert _listed(list_offsets, [tp]) == {tp: 7}


def test_a_partition_whose_leader_stays_unknown_is_reported_as_such():
    def list_offsets(partitions):
        raise KeyError(partitions[0])

    with pytest.raises(OffsetsUnknown):
        _listed(list_offsets, [TopicPartition("orders", 0)], timeout=0.3)
