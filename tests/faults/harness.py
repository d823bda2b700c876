"""One fault test's running shop: its broker, its processes, its stream of orders."""

import time
from collections.abc import Callable
from dataclasses import dataclass, field

from messaging.models import InboxEntry
from tests.faults.broker import Broker
from tests.faults.invariants import check, pending_work
from tests.faults.report import Exercised
from tests.faults.stack import Stack
from tests.faults.stream import Stream

SETTLE_TIMEOUT = 180.0


@dataclass
class FaultShop:
    stack: Stack
    broker: Broker
    stream: Stream
    initial_stock: dict[str, int]
    started: float = field(default_factory=time.monotonic)

    def wait(self, condition: Callable[[], object], *, what: str, timeout: float = 60.0):
        """Poll `condition` until it is true; at the deadline, fail with the processes' logs."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if result := condition():
                return result
            time.sleep(0.2)
        raise AssertionError(
            f"Timed out after {timeout:.0f} s waiting for {what}; still pending: "
            f"{pending_work(self.stream.placed)}\n{self.stack.tails()}"
        )

    def handled(self, group: str) -> int:
        return InboxEntry.objects.filter(group=group).count()

    def settle(self, *, poison=frozenset()) -> Exercised:
        """Wait until nothing is in flight (twice in a row), then check every invariant."""
        quiet_once = False

        def quiet() -> bool:
            nonlocal quiet_once
            quiet_once, was = not pending_work(self.stream.placed), quiet_once
            return quiet_once and was

        self.wait(quiet, what="the shop to be quiet", timeout=SETTLE_TIMEOUT)
        return check(
            self.stream.placed,
            self.initial_stock,
            poison=poison,
            broker_restarted=self.broker.restarts > 0,
        )

    def report(self, title: str, exercised: Exercised, **fault: object) -> Exercised:
        exercised.fault.update(fault)
        exercised.show(title, time.monotonic() - self.started)
        return exercised
