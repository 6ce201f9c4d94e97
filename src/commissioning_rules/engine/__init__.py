"""Engines that run rule data: the compiled engine (the default), durable_rules, and the reference interpreter.

All three read the same :class:`Rule` data and are tested identical on generated cases. ``compiled`` turns
the rules into Python once per policy; ``reference`` interprets them plainly (the readable definition);
``durable-rules`` runs them on durable_rules' Rete network where it imports (not on Python 3.13+).
"""

from __future__ import annotations

from typing import Sequence

from commissioning_rules.engine.compiled import CompiledEngine
from commissioning_rules.engine.reference import ReferenceEngine
from commissioning_rules.engine.rule import Rule

ENGINES = ("compiled", "durable-rules", "reference")


def durable_available() -> bool:
    """Whether durable_rules imports here (it does not on Python 3.13+: see notes/durable-rules.md)."""
    try:
        import commissioning_rules.engine.durable  # noqa: F401
    except ImportError:
        return False
    return True


def default_engine() -> str:
    """The compiled engine: the fastest, safe to share between threads, and available on every Python."""
    return "compiled"


def build_engine(name: str, rules: Sequence[Rule], fact_types: Sequence[str] = ()):
    """Compile ``rules`` for the engine called ``name``; ``fact_types`` are the kinds of fact it may be given
    besides those its rules read (durable_rules must be told of each in advance)."""
    if name == "compiled":
        return CompiledEngine(rules)
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
        return DurableEngine(rules, fact_types)
    raise ValueError(f"engine must be one of {ENGINES}, got {name!r}")
