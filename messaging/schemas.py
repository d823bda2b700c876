"""Message schemas: the JSON Schema of each contract version, and the committed snapshots.

A message type's schema is the JSON Schema its pydantic model validates against. Each
version's schema is committed in the owning app, `<app>/schemas/<type>.v<N>.json`: the
reviewed contract. A snapshot is never edited once its version has been published; a
change that is not backward compatible gets a new version (see messaging.compatibility).
"""

import importlib
import json
from pathlib import Path

from .contracts import Message, versioned_name


def payload_schema(contract: type[Message]) -> dict:
    """The JSON Schema of the current version's data (the record's value)."""
    schema = contract.model_json_schema(mode="validation")
    schema["title"] = contract.schema_name()
    return schema


def snapshot_dir(contract: type[Message]) -> Path:
    """`<app>/schemas/`, beside the contract module (found from the class, not imported by
    name: messaging knows no app)."""
    module = importlib.import_module(contract.__module__)
    return Path(module.__file__).resolve().parent / "schemas"


def snapshot_path(contract: type[Message], version: int | None = None) -> Path:
    name = versioned_name(contract.type_name(), version or contract.version)
    return snapshot_dir(contract) / f"{name}.json"


def read_snapshot(contract: type[Message], version: int | None = None) -> dict | None:
    path = snapshot_path(contract, version)
    return json.loads(path.read_text()) if path.exists() else None


def dumps(schema: dict) -> str:
    """A snapshot's text: stable, so a diff shows only what changed."""
    return json.dumps(schema, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
