"""The committed schema snapshots hold every contract's versions (messaging.snapshots), and
the message_schemas command that checks and writes them."""

import json
import shutil
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from messaging import contracts, schemas, snapshots
from messaging.contracts import all_message_classes, missing_upcasters
from messaging.snapshots import CURRENT, MISSING, STRAY, snapshot_state, snapshot_states
from warehouse.contracts import DispatchOrder, DispatchRejected

CONTRACTS = all_message_classes()


def test_the_contracts_of_every_owning_app_are_checked():
    # The parametrized test below checks nothing if no contract is registered.
    assert {contract.source for contract in CONTRACTS} == {"shop", "warehouse", "notifications"}


@pytest.mark.parametrize("contract", CONTRACTS, ids=lambda contract: contract.type_name())
def test_the_current_versions_snapshot_is_what_its_contract_generates(contract):
    state = snapshot_state(contract, contract.version)
    assert state.state == CURRENT, f"{state.advice()}\n\n{state.diff}"


def test_every_version_has_a_snapshot_and_every_snapshot_a_version():
    lost = [state.advice() for state in snapshot_states() if state.state in (MISSING, STRAY)]
    assert lost == []


def test_every_version_step_has_an_upcaster():
    assert missing_upcasters() == []


@pytest.fixture
def snapshot_dirs(tmp_path, monkeypatch):
    """A copy of the committed snapshots, which the command reads and writes instead."""
    for contract in CONTRACTS:
        shutil.copytree(
            schemas.snapshot_dir(contract), tmp_path / contract.source, dirs_exist_ok=True
        )

    def snapshot_dir(contract):
        return tmp_path / contract.source

    monkeypatch.setattr(schemas, "snapshot_dir", snapshot_dir)
    monkeypatch.setattr(snapshots, "snapshot_dir", snapshot_dir)
    return tmp_path


def message_schemas(*args: str) -> str:
    out = StringIO()
    call_command("message_schemas", *args, stdout=out)
    return out.getvalue()


def failing(*args: str) -> str:
    out = StringIO()
    with pytest.raises(CommandError, match="message schema problem"):
        call_command("message_schemas", *args, stdout=out)
    return out.getvalue()


def edit(path, change) -> None:
    schema = json.loads(path.read_text())
    change(schema)
    path.write_text(schemas.dumps(schema))


def test_the_command_lists_each_version_with_its_state(snapshot_dirs):
    out = message_schemas("--check")
    assert "warehouse.DispatchOrder.v1                       kept\n" in out
    assert "warehouse.DispatchOrder.v2                       current\n" in out
    assert len(out.splitlines()) == len(snapshot_states())


def test_a_compatible_change_is_written(snapshot_dirs):
    path = snapshots.snapshot_path(DispatchRejected)
    edit(path, lambda schema: schema.update(description="An older docstring."))

    out = message_schemas()
    assert "warehouse.DispatchRejected.v1                    compatible\n" in out
    assert "run `python manage.py message_schemas --write`" in out

    assert "warehouse.DispatchRejected.v1                    compatible, written\n" in (
        message_schemas("--write")
    )
    assert json.loads(path.read_text()) == schemas.payload_schema(DispatchRejected)
    assert "warehouse.DispatchRejected.v1                    current\n" in message_schemas()


def add_required_code(schema: dict) -> None:
    # As if the contract had a required `code`, which it has since dropped.
    schema["properties"]["code"] = {"title": "Code", "type": "string"}
    schema["required"].append("code")


def test_a_breaking_change_is_refused_with_its_reasons(snapshot_dirs):
    path = snapshots.snapshot_path(DispatchRejected)
    edit(path, add_required_code)
    before = path.read_text()

    out = failing("--check")
    assert "warehouse.DispatchRejected.v1                    breaking\n" in out
    assert "warehouse.DispatchRejected.v1 changed incompatibly for an event:\n" in out
    assert "\n      - code: removed\n" in out
    assert "Bump DispatchRejected.version to 2" in out
    assert "`@upcaster(DispatchRejected, from_version=1)`" in out
    assert '-    "code": {' in snapshot_state(DispatchRejected, 1).diff

    assert "breaking\n" in failing("--write")
    assert path.read_text() == before


def test_after_a_version_bump_the_new_snapshot_is_written_and_the_old_one_kept(
    snapshot_dirs, monkeypatch
):
    old = snapshots.snapshot_path(DispatchRejected, 1)
    edit(old, add_required_code)
    before = old.read_text()
    monkeypatch.setattr(DispatchRejected, "version", 2)

    out = failing()
    assert "warehouse.DispatchRejected.v2                    missing\n" in out
    assert "No upcaster for warehouse.DispatchRejected from version 1 to 2" in out

    monkeypatch.setitem(contracts._UPCASTERS, ("warehouse.DispatchRejected", 1), dict)
    out = message_schemas("--write")
    assert "warehouse.DispatchRejected.v1                    kept\n" in out
    assert "warehouse.DispatchRejected.v2                    missing, written\n" in out
    assert old.read_text() == before
    assert snapshot_state(DispatchRejected, 2).state == CURRENT


def test_a_lost_snapshot_of_an_older_version_cannot_be_written(snapshot_dirs):
    snapshots.snapshot_path(DispatchOrder, 1).unlink()

    out = failing("--write")
    assert "warehouse.DispatchOrder.v1                       missing\n" in out
    assert "restore warehouse/warehouse.DispatchOrder.v1.json from the git history" in out.replace(
        f"{snapshot_dirs}/", ""
    )


def test_a_snapshot_of_no_contract_version_is_a_stray(snapshot_dirs):
    (snapshot_dirs / "warehouse" / "warehouse.DispatchOrder.v3.json").write_text("{}\n")

    out = failing()
    assert "warehouse.DispatchOrder.v3.json                  stray\n" in out
    assert "is the snapshot of no contract version" in out
