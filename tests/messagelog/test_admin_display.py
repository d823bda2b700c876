"""The message log's header table: a record re-driven from a dead-letter topic carries
dead-letter headers, Spring's binary numbers among them, and the old text ones."""

import struct

from messagelog.admin.display import header_table
from messaging.wire import decode_headers


def test_springs_binary_dead_letter_numbers_are_shown_as_numbers():
    stored = decode_headers(  # as the audit group stores a record's headers
        [
            ("kafka_dlt-original-topic", b"orders"),
            ("kafka_dlt-original-partition", struct.pack(">i", 3)),
            ("kafka_dlt-original-offset", struct.pack(">q", 41)),
            ("kafka_dlt-original-timestamp", struct.pack(">q", 1_700_000_000_123)),
        ]
    )
    assert "\\x00" in stored["kafka_dlt-original-offset"]  # unreadable as stored

    table = header_table(stored)

    assert "<code>3</code>" in table and "<code>41</code>" in table
    assert "<code>1700000000123</code>" in table and "<code>orders</code>" in table
    assert "\\x" not in table


def test_other_values_are_shown_as_stored():
    """The old dead-letter names' text, and text under a Spring name (not its binary)."""
    table = header_table(
        {
            "dlq_original_partition": "3",
            "dlq_original_offset": "41",
            "kafka_dlt-original-offset": "42",
        }
    )

    assert all(f"<code>{n}</code>" in table for n in ("3", "41", "42"))
