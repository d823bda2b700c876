"""What scenario 7 measures of each design, as the results keep it and the report reads it."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class Throughput:
    orders: int
    seconds: float
    cpu: dict[str, float]  # CPU seconds per process type during the run

    @property
    def per_second(self) -> float:
        return self.orders / self.seconds

    def cpu_ms_per_order(self, harness: bool = False) -> float:
        used = sum(v for k, v in self.cpu.items() if harness or k != "harness")
        return 1000 * used / self.orders


@dataclass
class Stop:
    seconds: float  # how long the worker was down
    buys_sent: int
    buys_accepted: int  # answered with the redirect to the order page
    buy_seconds: float  # how long the BUYs took, all of them during the stop
    dispatched: int  # counted the moment the worker started again
    sales: int
    emails: int
    emails_after: int  # once the worker caught up
    first_email_after: float  # seconds from the worker's start to its first email
    caught_up_after: float  # ... to the last email of the orders placed during the stop

    @property
    def accepted_per_second(self) -> float:
        return self.buys_accepted / self.buy_seconds
