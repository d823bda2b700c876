"""The architecture's one rule, enforced: apps talk through Kafka, not through imports."""

import subprocess
import sys
from pathlib import Path

from django.apps import apps

APPS = {"shop", "warehouse", "notifications", "sales", "messaging"}
ROOT = Path(__file__).resolve().parent.parent


def test_import_contracts_hold():
    # The contracts live in pyproject.toml: messaging imports no app, apps import one
    # another only through an owner's contract module, contract modules import no internals.
    lint = Path(sys.executable).with_name("lint-imports")
    result = subprocess.run([str(lint)], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Contracts: 3 kept, 0 broken." in result.stdout


def test_no_foreign_key_crosses_apps():
    crossing = [
        f"{model._meta.label}.{field.name} -> {field.related_model._meta.label}"
        for model in apps.get_models()
        if model._meta.app_label in APPS
        for field in model._meta.get_fields()
        if field.is_relation
        and field.related_model is not None
        and field.related_model._meta.app_label != model._meta.app_label
        and field.related_model._meta.app_label in APPS
    ]
    assert crossing == []
