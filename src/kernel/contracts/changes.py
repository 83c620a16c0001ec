"""PATCH semantics, once: apply the fields that were sent, report which ones changed."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import msgspec


def sent_fields(body: msgspec.Struct) -> dict[str, Any]:
    """The fields of a PATCH body that were sent (not UNSET), by attribute name, in declaration order."""
    return {name: value for name in body.__struct_fields__ if (value := getattr(body, name)) is not msgspec.UNSET}


def differences(target: object, changes: Mapping[str, Any]) -> dict[str, Any]:
    """The entries of `changes` whose value differs from `target`'s attribute of that name."""
    return {name: value for name, value in changes.items() if getattr(target, name) != value}


def apply_changes(target: object, changes: Mapping[str, Any]) -> list[str]:
    """Set each attribute of `target` whose value differs from `changes`; return the names that changed."""
    changed = differences(target, changes)
    for name, value in changed.items():
        setattr(target, name, value)
    return list(changed)
