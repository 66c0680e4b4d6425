"""YAML configs with ``key.sub=value`` overrides, turned into dataclasses strictly.

Config sections are pydantic dataclasses (:func:`section`): every value is checked for
its type and range when the config is built, so a typo or an impossible value fails at
once with the key named, never after an epoch of training.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from collections.abc import Iterable
from pathlib import Path
from typing import Any, TypeVar

import pydantic
import yaml
from pydantic.dataclasses import dataclass as pydantic_dataclass

T = TypeVar("T")


def section(cls: type[T]) -> type[T]:
    """A frozen, validated config dataclass (pydantic): types are checked (``"maybe"`` is
    not a bool, ``"5"`` becomes 5), ``Annotated[..., Field(ge=...)]`` ranges enforced."""
    return pydantic_dataclass(frozen=True, config=pydantic.ConfigDict(extra="forbid"))(cls)


def _describe(exc: pydantic.ValidationError, where: str) -> str:
    parts = []
    for err in exc.errors():
        key = where + ".".join(str(x) for x in err["loc"])
        if err["type"] == "value_error":
            parts.append(f"{key + ': ' if err['loc'] else ''}{err['ctx']['error']}")
        else:
            parts.append(f"{key}: {err['msg'].lower()}, got {err['input']!r}")
    return "; ".join(parts)


def load_yaml(path: str | Path) -> dict[str, Any]:
    """Read a YAML mapping (an empty file gives ``{}``)."""
    path = Path(path)
    try:
        with open(path, encoding="utf-8") as fh:
            data = yaml.safe_load(fh) or {}
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise ValueError(f"{path}: not valid YAML ({exc})".replace("\n", " ")) from None
    if not isinstance(data, dict):
        raise ValueError(f"{path}: top level must be a mapping, found {type(data).__name__}")
    return data


def apply_overrides(cfg: dict[str, Any], overrides: Iterable[str]) -> dict[str, Any]:
    """Set ``a.b.c=value`` entries (value parsed as YAML) in a nested dict, in place."""
    for item in overrides:
        key, sep, raw = item.partition("=")
        if not sep or not key:
            raise ValueError(f"override {item!r} is not of the form key=value")
        node = cfg
        *parents, leaf = key.split(".")
        for part in parents:
            node = node.setdefault(part, {})
            if not isinstance(node, dict):
                raise ValueError(f"override {item!r}: {part!r} is not a section")
        node[leaf] = yaml.safe_load(raw)
    return cfg


def from_dict(cls: type[T], data: dict[str, Any] | None, where: str = "") -> T:
    """Build dataclass ``cls`` from a dict, recursing into nested dataclasses.

    Unknown keys raise ``ValueError`` naming the full key, so typos never pass silently.
    """
    data = data or {}
    fields = {f.name: f for f in dataclasses.fields(cls)}
    unknown = sorted(set(data) - set(fields))
    if unknown:
        names = ", ".join(f"{where}{k}" for k in unknown)
        raise ValueError(f"unknown config keys: {names} (known: {', '.join(sorted(fields))})")
    hints = typing.get_type_hints(cls)
    kwargs = {}
    for name, value in data.items():
        sub = _dataclass_type(hints[name])
        if sub is not None and isinstance(value, dict):
            value = from_dict(sub, value, f"{where}{name}.")
        elif isinstance(value, list):
            value = tuple(value)
        kwargs[name] = value
    try:
        return cls(**kwargs)
    except pydantic.ValidationError as exc:
        raise ValueError(
            f"config section {where.rstrip('.') or '(top)'}: {_describe(exc, where)}"
        ) from None
    except ValueError as exc:  # a plain dataclass's own check
        raise ValueError(f"config section {where.rstrip('.') or '(top)'}: {exc}") from exc


def _dataclass_type(hint: Any) -> type | None:
    if dataclasses.is_dataclass(hint):
        return hint
    if isinstance(hint, types.UnionType) or typing.get_origin(hint) is typing.Union:
        return next((a for a in typing.get_args(hint) if dataclasses.is_dataclass(a)), None)
    return None


def to_dict(obj: Any) -> dict[str, Any]:
    """Dataclass to plain dict (tuples become lists) for YAML dumping."""

    def plain(v: Any) -> Any:
        if isinstance(v, (list, tuple)):
            return [plain(x) for x in v]
        if isinstance(v, dict):
            return {k: plain(x) for k, x in v.items()}
        return v

    return plain(dataclasses.asdict(obj))


def dump_yaml(data: dict[str, Any]) -> str:
    return yaml.safe_dump(data, sort_keys=False)
