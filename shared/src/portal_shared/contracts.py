"""Event-contract snapshots: the committed JSON schema of every event, and what counts as breaking.

`python -m portal_shared.contracts DIR` writes one snapshot per contract
(`<type>.v<version>.json`); the test in shared/tests compares the live
schemas with them. Adding an optional field is compatible; removing or
renaming a field, changing its type, or making a field required is not —
that needs a new VERSION beside the old one.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from portal_shared.events import registered_events
from portal_shared.events.base import Event


def snapshot_name(contract: type[Event]) -> str:
    return f"{contract.TYPE}.v{contract.VERSION}.json"


def schema_of(contract: type[Event]) -> dict[str, Any]:
    return {
        "type": contract.TYPE,
        "version": contract.VERSION,
        "topic": contract.TOPIC,
        "schema": contract.model_json_schema(mode="serialization"),
    }


def _resolve(schema: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    ref = node.get("$ref")
    if ref:
        return _resolve(schema, schema["$defs"][ref.rsplit("/", 1)[1]])
    return node


def _types(schema: dict[str, Any], node: dict[str, Any]) -> Any:
    """A comparable description of a field's type (nested objects compared field by field elsewhere)."""
    node = _resolve(schema, node)
    if "anyOf" in node:
        return sorted(json.dumps(_types(schema, n), sort_keys=True) for n in node["anyOf"])
    if node.get("type") == "object" and "properties" in node:
        return "object"
    if node.get("type") == "array":
        return ["array", _types(schema, node.get("items", {}))]
    return {k: node[k] for k in ("type", "enum", "const", "format") if k in node}


def breaking_changes(old: dict[str, Any], new: dict[str, Any], path: str = "") -> list[str]:
    """What in `new` would break a consumer or producer written against `old`."""
    return _compare(old, old, new, new, path)


def _compare(old_root, old, new_root, new, path) -> list[str]:
    problems: list[str] = []
    old, new = _resolve(old_root, old), _resolve(new_root, new)
    old_props, new_props = old.get("properties", {}), new.get("properties", {})
    for name, old_field in old_props.items():
        where = f"{path}{name}"
        if name not in new_props:
            problems.append(f"{where}: removed or renamed")
            continue
        if _types(old_root, old_field) != _types(new_root, new_props[name]):
            problems.append(f"{where}: type changed")
            continue
        old_obj, new_obj = _resolve(old_root, old_field), _resolve(new_root, new_props[name])
        if old_obj.get("type") == "object" and "properties" in old_obj:
            problems += _compare(old_root, old_obj, new_root, new_obj, where + ".")
    newly_required = set(new.get("required", [])) - set(old.get("required", []))
    problems += [f"{path}{name}: became required" for name in sorted(newly_required)]
    return problems


class BreakingChange(Exception):
    """A contract changed incompatibly: publish a new VERSION instead of editing this one."""


def write_snapshots(directory: Path) -> list[Path]:
    """Write new snapshots and compatible updates; refuse to overwrite with a breaking change."""
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for contract in registered_events():
        path = directory / snapshot_name(contract)
        if path.exists():
            problems = breaking_changes(json.loads(path.read_text())["schema"], schema_of(contract)["schema"])
            if problems:
                raise BreakingChange(f"{contract.TYPE} v{contract.VERSION}: " + "; ".join(problems))
        path.write_text(json.dumps(schema_of(contract), indent=2, sort_keys=True) + "\n")
        written.append(path)
    return written


if __name__ == "__main__":
    for written_path in write_snapshots(Path(sys.argv[1] if len(sys.argv) > 1 else "shared/contracts")):
        print(written_path)
