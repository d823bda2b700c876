"""The committed schema snapshots checked against the contracts, and rewritten when allowed.

Every version of a message type, 1 to the current one, has a snapshot. The current
version's must equal the schema its contract generates now; an older version's is kept as
it was published. When they differ, messaging.compatibility says whether the change may
simply be written (compatible) or needs a new version (breaking). A snapshot that no
contract version explains is a stray. The `message_schemas` command and
tests/messaging/test_schemas.py report through this module.
"""

import difflib
from dataclasses import dataclass, replace
from pathlib import Path

from .compatibility import breaking_changes
from .contracts import Message, all_message_classes
from .schemas import dumps, payload_schema, read_snapshot, snapshot_dir, snapshot_path

CURRENT = "current"  # the current version's snapshot is what the contract generates
KEPT = "kept"  # an older version's snapshot, as it was published
COMPATIBLE = "compatible"  # the contract changed compatibly: the snapshot may be rewritten
BREAKING = "breaking"  # the contract changed incompatibly: it needs a new version
MISSING = "missing"
STRAY = "stray"  # a snapshot of no contract version

WRITE = "python manage.py message_schemas --write"


@dataclass(frozen=True)
class SnapshotState:
    name: str  # "shop.OrderPlaced.v2", or the file's name for a stray
    path: Path
    state: str
    contract: type[Message] | None = None
    version: int = 0
    breaking: tuple[str, ...] = ()
    diff: str = ""

    @property
    def ok(self) -> bool:
        return self.state in (CURRENT, KEPT)

    @property
    def failed(self) -> bool:
        """Whether `--check` fails: a compatible change is only out of date, not wrong."""
        return self.state in (BREAKING, MISSING, STRAY)

    @property
    def writable(self) -> bool:
        """Whether `--write` may write the contract's schema as this snapshot."""
        is_current = self.contract is not None and self.version == self.contract.version
        return is_current and self.state in (COMPATIBLE, MISSING)

    def advice(self) -> str:
        """What the developer does about it, in full."""
        where = _shown(self.path)
        if self.state in (CURRENT, KEPT):
            return f"{self.name} is {self.state}."
        if self.state == STRAY:
            return (
                f"{where} is the snapshot of no contract version: delete it if its message "
                "type or version is gone for good."
            )
        contract, version = self.contract, self.version
        if self.state == MISSING and self.writable:
            return f"{self.name} has no snapshot: run `{WRITE}` to write {where}, and commit it."
        if self.state == MISSING:
            return (
                f"{self.name} has no snapshot: an older version's snapshot is kept as it was "
                f"published; restore {where} from the git history."
            )
        if self.state == COMPATIBLE:
            return (
                f"{self.name} changed compatibly for {_a(contract.kind)}: run `{WRITE}` to update "
                f"{where}, and commit it."
            )
        reasons = "".join(f"\n  - {reason}" for reason in self.breaking)
        return (
            f"{self.name} changed incompatibly for {_a(contract.kind)}:{reasons}\n"
            f"Bump {contract.__name__}.version to {version + 1}, add "
            f"`@upcaster({contract.__name__}, from_version={version})` next to the contract "
            f"(version {version} data in, version {version + 1} data out), keep {where} as "
            f"it is, and run `{WRITE}` to write the version {version + 1} snapshot."
        )


def snapshot_states() -> list[SnapshotState]:
    """Every version's snapshot of every contract, then the strays, by name."""
    contracts = all_message_classes()
    states = [
        snapshot_state(contract, version)
        for contract in contracts
        for version in range(1, contract.version + 1)
    ]
    return sorted(states, key=lambda state: state.name) + _strays(contracts, states)


def write_snapshots(states: list[SnapshotState]) -> list[SnapshotState]:
    """Write the writable snapshots (a compatible change, a new version or message type);
    the written ones are returned. A breaking change is never written over its snapshot."""
    written = [state for state in states if state.writable]
    for state in written:
        state.path.parent.mkdir(parents=True, exist_ok=True)
        state.path.write_text(dumps(payload_schema(state.contract)))
    return written


def schema_diff(name: str, old: dict, new: dict) -> str:
    """A unified diff of two schemas' snapshot texts."""
    return "".join(
        difflib.unified_diff(
            dumps(old).splitlines(keepends=True),
            dumps(new).splitlines(keepends=True),
            fromfile=f"{name} (snapshot)",
            tofile=f"{name} (contract)",
        )
    )


def snapshot_state(contract: type[Message], version: int) -> SnapshotState:
    """One version's snapshot of a contract, compared with the contract if it is current."""
    found = SnapshotState(
        name=f"{contract.type_name()}.v{version}",
        path=snapshot_path(contract, version),
        state=MISSING,
        contract=contract,
        version=version,
    )
    snapshot = read_snapshot(contract, version)
    if snapshot is None:
        return found
    if version < contract.version:
        return replace(found, state=KEPT)
    schema = payload_schema(contract)
    if snapshot == schema:
        return replace(found, state=CURRENT)
    breaking = breaking_changes(snapshot, schema, kind=contract.kind)
    return replace(
        found,
        state=BREAKING if breaking else COMPATIBLE,
        breaking=tuple(breaking),
        diff=schema_diff(found.name, snapshot, schema),
    )


def _strays(contracts: list[type[Message]], states: list[SnapshotState]) -> list[SnapshotState]:
    known = {state.path for state in states}
    folders = sorted({snapshot_dir(contract) for contract in contracts})
    return [
        SnapshotState(name=path.name, path=path, state=STRAY)
        for folder in folders
        if folder.is_dir()
        for path in sorted(folder.glob("*.json"))
        if path not in known
    ]


def _shown(path: Path) -> str:
    """The path from the working directory when it is inside it (the project's root)."""
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def _a(kind: str) -> str:
    return f"an {kind}" if kind == "event" else f"a {kind}"
