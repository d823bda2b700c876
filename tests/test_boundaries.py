"""The architecture's one rule, enforced: apps talk through Kafka, not through imports."""

import subprocess
import sys
from pathlib import Path

import grimp
from django.apps import apps

APPS = {"shop", "warehouse", "notifications", "sales", "loyalty", "messaging", "messagelog"}
PACKAGES = ["config", "devstack", "benchmarks", *sorted(APPS)]
ROOT = Path(__file__).resolve().parent.parent


def test_import_contracts_hold():
    # The contracts live in pyproject.toml: the platform imports no app and the runtime not
    # its log, apps import one another only through an owner's contract module, contract
    # modules import no internals, and the runtime's layers only ever import downwards.
    lint = Path(sys.executable).with_name("lint-imports")
    result = subprocess.run([str(lint)], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Contracts: 5 kept, 0 broken." in result.stdout


def test_no_module_imports_itself_through_others():
    """No import cycle anywhere in the project, lazy imports inside functions included."""
    graph = grimp.build_graph(*PACKAGES)
    modules = {m for m in graph.modules if ".migrations" not in m}
    cycles = [
        sorted(component)
        for component in _strongly_connected(modules, graph.find_modules_directly_imported_by)
        if len(component) > 1
    ]
    assert cycles == []


def _strongly_connected(nodes, successors) -> list[set[str]]:
    """Tarjan's algorithm, iteratively (the import graph is deep enough to matter)."""
    index, low, on_stack, stack, found = {}, {}, set(), [], []
    for root in sorted(nodes):
        if root in index:
            continue
        work = [(root, iter(sorted(successors(root) & nodes)))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is None:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    component = set()
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        component.add(member)
                        if member == node:
                            break
                    found.append(component)
            elif child not in index:
                index[child] = low[child] = len(index)
                stack.append(child)
                on_stack.add(child)
                work.append((child, iter(sorted(successors(child) & nodes))))
            elif child in on_stack:
                low[node] = min(low[node], index[child])
    return found


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
