"""What a fault test exercised, printed so a reader sees that the fault really happened."""

from dataclasses import dataclass, field


@dataclass
class Exercised:
    orders: int
    dispatched: int
    cancelled: int
    records: int  # records on Kafka, as the audit group logged them
    deliveries: int  # messages handled, one inbox row per group and message
    duplicates_by_group: dict[str, int]  # redeliveries each group's inbox recognised
    failed_attempts: int  # handler attempts that raised (then retried)
    dead_letters: int
    republished: int  # message ids the relay put on Kafka more than once
    fault: dict[str, object] = field(default_factory=dict)  # the test's own measurements

    @property
    def duplicates(self) -> int:
        return sum(self.duplicates_by_group.values())

    def show(self, title: str, seconds: float) -> None:
        by_group = ", ".join(f"{g} {n}" for g, n in self.duplicates_by_group.items() if n)
        lines = [
            f"orders {self.orders} (dispatched {self.dispatched}, cancelled {self.cancelled})",
            f"records on Kafka {self.records}, deliveries handled {self.deliveries}",
            f"duplicates suppressed {self.duplicates}" + (f" ({by_group})" if by_group else ""),
            f"failed attempts retried {self.failed_attempts}, dead letters {self.dead_letters}",
            f"relay republished {self.republished} message ids",
            *(f"{what}: {value}" for what, value in self.fault.items()),
        ]
        print(f"\n== fault: {title} ({seconds:.0f} s)\n   " + "\n   ".join(lines))
