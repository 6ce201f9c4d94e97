"""Engines that run rule data: the compiled engine (the default), durable_rules, and the reference interpreter.

All three read the same :class:`Rule` data and are tested identical on generated cases. ``compiled`` turns
the rules into Python once per policy; ``reference`` interprets them plainly (the readable definition);
``durable-rules`` runs them on durable_rules' Rete network where the ``durable`` extra is installed and imports
(not on Python 3.13+).
"""

from __future__ import annotations

import sys
from typing import Any, Literal, Sequence, get_args

from commissioning_rules.engine.compiled import CompiledEngine, Reader
from commissioning_rules.engine.reference import ReferenceEngine
from commissioning_rules.engine.rule import Rule

#: The name of an engine, as ``evaluate(engine=...)`` and the command line's ``--engine`` take it.
EngineName = Literal["compiled", "durable-rules", "reference"]
ENGINES: tuple[EngineName, ...] = get_args(EngineName)
#: What to run to get the durable-rules engine (it is the ``durable`` extra: pip builds it with a C compiler).
DURABLE_INSTALL = "pip install 'commissioning-rules[durable]'"


def engine_name(value: str | None) -> EngineName | None:
    """``value`` as an :data:`EngineName` (``None`` stays ``None``: the default engine); ``ValueError`` if it names
    no engine. For names that come from outside (the command line, a request, a stored record)."""
    if value is None:
        return None
    for name in ENGINES:
        if value == name:
            return name
    raise ValueError(f"engine must be one of {', '.join(ENGINES)}; got {value!r}")


class EngineUnavailable(RuntimeError):
    """The engine asked for cannot run here: not installed, or not importable on this Python."""


def _durable_import_error() -> ImportError | None:
    try:
        import commissioning_rules.engine.durable  # noqa: F401
    except ImportError as error:
        return error
    return None


def durable_available() -> bool:
    """Whether durable_rules is installed and imports here (it does not on Python 3.13+: see the engines page)."""
    return _durable_import_error() is None


def durable_unavailable_reason() -> str | None:
    """Why the durable-rules engine cannot run here, in one sentence naming what to do; ``None`` when it can."""
    error = _durable_import_error()
    if error is None:
        return None
    others = "use engine 'compiled' (the default) or 'reference', which give the same decisions"
    if sys.version_info >= (3, 13):
        return f"the durable-rules engine does not run on Python 3.13 or later (durable-rules 2.0.28 does not import there); {others}"
    # the durable-rules distribution installs two top-level modules: its C extension and the durable package
    if isinstance(error, ModuleNotFoundError) and (error.name or "").split(".")[0] in ("durable_rules_engine", "durable"):
        return f"the durable-rules engine is not installed: run `{DURABLE_INSTALL}` (it needs a C compiler), or {others}"
    return f"the durable-rules engine does not import here ({error}); {others}"


def default_engine() -> EngineName:
    """The compiled engine: the fastest, safe to share between threads, and available on every Python."""
    return "compiled"


def build_engine(name: str, rules: Sequence[Rule], fact_types: Sequence[str] = (), reader: Reader | None = None) -> Any:
    """Compile ``rules`` for the engine called ``name``; ``fact_types`` are the kinds of fact it may be given
    besides those its rules read (durable_rules must be told of each in advance); with a ``reader``, the compiled
    engine also reads facts' models directly. :class:`EngineUnavailable` if the engine cannot run here;
    ``ValueError`` naming the engines if ``name`` is none of them."""
    if name == "compiled":
        return CompiledEngine(rules, reader)
    if name == "reference":
        return ReferenceEngine(rules)
    if name == "durable-rules":
        reason = durable_unavailable_reason()
        if reason is not None:
            raise EngineUnavailable(reason)
        from commissioning_rules.engine.durable import DurableEngine

        return DurableEngine(rules, fact_types)
    engine_name(name)  # raises, naming the engines
    raise AssertionError(name)
