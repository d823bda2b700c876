"""A conversation as a sequence diagram: one lifeline per app, one row per message.

A command goes from whoever sent it to its owner (solid line, filled head); an event
goes from its owner to every consumer group that follows it (dashed line, open heads).
Only geometry is computed here; the admin's SVG template draws it.
"""

from dataclasses import dataclass

from messaging.registry import groups

from .conversation import ORIGIN, Step
from .outcomes import Status

LANE = 150  # between lifelines
ROW = 34  # per message
TOP = 62  # below the lifelines' heads
LEFT = 96  # the time column
SELF_LOOP = 28


@dataclass(frozen=True)
class Lifeline:
    name: str
    x: int


@dataclass(frozen=True)
class Tip:
    """Where an arrow ends: a group and what it made of the message (messagelog.outcomes)."""

    group: str
    x: int
    status: str
    failures: int = 0  # failed attempts, also before a success

    @property
    def retried(self) -> bool:
        return self.status == Status.HANDLED and self.failures > 0

    @property
    def failed(self) -> bool:
        return self.status in (Status.RETRYING, Status.DEAD_LETTERED)


@dataclass(frozen=True)
class Arrow:
    step: Step
    y: int
    x: int  # the sender's lifeline
    tips: tuple[Tip, ...]

    @property
    def kind(self) -> str:
        return self.step.kind

    @property
    def rightward(self) -> bool:
        return not self.tips or max(t.x for t in self.tips) > self.x

    @property
    def label_x(self) -> int:
        return self.x + 8 if self.rightward else self.x - 8

    @property
    def label_anchor(self) -> str:
        return "start" if self.rightward else "end"

    @property
    def loops(self) -> tuple[Tip, ...]:
        return tuple(t for t in self.tips if t.x == self.x)

    @property
    def lines(self) -> tuple[Tip, ...]:
        """Tips on other lifelines, farthest first: lines to nearer groups, drawn later,
        stay visible over the longer ones that share their start."""
        others = [t for t in self.tips if t.x != self.x]
        return tuple(sorted(others, key=lambda t: -abs(t.x - self.x)))


@dataclass(frozen=True)
class Diagram:
    lifelines: tuple[Lifeline, ...]
    arrows: tuple[Arrow, ...]
    width: int
    height: int
    self_loop: int = SELF_LOOP
    left: int = LEFT
    row: int = ROW
    top: int = TOP

    @property
    def statuses(self) -> list[str]:
        return [status.value for status in Status]


def lifeline_names(steps: list[Step]) -> list[str]:
    """Where messages come from, then every app consumer group, then anyone else seen."""
    names = [ORIGIN] if any(s.sender == ORIGIN for s in steps) else []
    names += [name for name, group in groups().items() if group.handlers]
    for step in steps:
        for name in [step.sender, step.source, *(o.group for o in step.outcomes)]:
            if name and name not in names:
                names.append(name)
    return names


def sequence_diagram(steps: list[Step]) -> Diagram:
    names = lifeline_names(steps)
    x = {name: LEFT + LANE // 2 + i * LANE for i, name in enumerate(names)}
    arrows = tuple(
        Arrow(step, TOP + i * ROW + ROW // 2, x[step.sender], _tips(step, x))
        for i, step in enumerate(steps)
    )
    return Diagram(
        lifelines=tuple(Lifeline(name, x[name]) for name in names),
        arrows=arrows,
        width=LEFT + len(names) * LANE + SELF_LOOP,
        height=TOP + len(steps) * ROW + 24,
    )


def _tips(step: Step, x: dict[str, int]) -> tuple[Tip, ...]:
    if step.kind == "command":
        # Its one owner handles it; an outcome row exists even while it waits.
        owner = next((o for o in step.outcomes if o.group == step.source), None)
        if owner is None:
            return (Tip(step.source, x[step.source], Status.PENDING),)
        return (Tip(owner.group, x[owner.group], owner.status, len(owner.failures)),)
    return tuple(Tip(o.group, x[o.group], o.status, len(o.failures)) for o in step.outcomes)
