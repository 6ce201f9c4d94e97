"""Engines that run rule data: durable_rules (the default where it imports) and the reference interpreter."""

from __future__ import annotations

from typing import Sequence

from commissioning_rules.engine.reference import ReferenceEngine
from commissioning_rules.engine.rule import Rule

ENGINES = ("durable-rules", "reference")


def durable_available() -> bool:
    """Whether durable_rules imports here (it does not on Python 3.13+: see notes/durable-rules.md)."""
    try:
        import commissioning_rules.engine.durable  # noqa: F401
    except ImportError:
        return False
    return True


def default_engine() -> str:
    return "durable-rules" if durable_available() else "reference"


def build_engine(name: str, rules: Sequence[Rule]):
    """Compile ``rules`` for the engine called ``name``."""
    if name == "reference":
        return ReferenceEngine(rules)
    if name == "durable-rules":
        try:
            from commissioning_rules.engine.durable import DurableEngine
        except ImportError as error:
            raise RuntimeError(
                "the durable-rules engine is not available on this Python "
                f"({error}); use engine='reference'"
            ) from None
        return DurableEngine(rules)
    raise ValueError(f"engine must be one of {ENGINES}, got {name!r}")
