"""The values every engine compares: a :class:`Fact`, and :func:`encode` for the scalars inside it.

The engine layer owns these; turning a case into facts happens above it (``commissioning_rules.facts``).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from enum import Enum
from typing import Any, Mapping, NamedTuple


class Fact(NamedTuple):
    """One thing the rules look at: its ``type`` (``case``, or an item kind such as ``option``), a ``key`` naming
    it in the case, its engine ``values`` by dotted path, and the validated ``model`` it was read from (the case, or
    one listed item; ``None`` for a fact made by hand), which an engine compiled to read it directly reads, and the
    words are filled from. (A named tuple: a case makes several, and a tuple is the cheapest immutable record.)"""

    type: str
    key: str
    values: Mapping[str, Any]
    model: Any = None


def plain(values: Mapping[str, Any]) -> dict[str, Any]:
    """A fact's values as a plain dict (they may be worked out when first read), for an engine's inner loop."""
    if type(values) is dict:
        return values
    worked_out = getattr(values, "plain", None)
    return worked_out if isinstance(worked_out, dict) else dict(values)


def nested(flat: Mapping[str, Any]) -> dict[str, Any]:
    """A fact's values by dotted path as nested mappings: ``{"a.b": 1}`` → ``{"a": {"b": 1}}``."""
    tree: dict[str, Any] = {}
    for path, value in flat.items():
        *parents, leaf = path.split(".")
        node = tree
        for p in parents:
            node = node.setdefault(p, {})
        node[leaf] = value
    return tree


def encode(value: Any) -> Any:
    """A scalar as the engines compare it (the same encoding serves facts, rule operands and parameters):
    money as integer pence, dates as ordinals, enums as their value; booleans, integers and strings as they are."""
    if isinstance(value, bool):
        return value
    if isinstance(value, Decimal):
        pence = value * 100
        if pence != pence.to_integral_value():
            raise ValueError(f"{value} is not a whole number of pence")
        return int(pence)
    if isinstance(value, dt.date):
        return value.toordinal()
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, (int, str)):
        return value
    raise TypeError(f"cannot encode {type(value).__name__} for the engine")
