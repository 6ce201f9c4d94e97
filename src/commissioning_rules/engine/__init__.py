"""Engines that run rule data: durable_rules (the default where it is installed and imports) and the reference
interpreter (pure Python, always available)."""

from __future__ import annotations

import sys
from typing import Any, Literal, Sequence, get_args

from commissioning_rules.engine.reference import ReferenceEngine
from commissioning_rules.engine.rule import Rule

#: The name of an engine, as ``evaluate(engine=...)`` and the command line's ``--engine`` take it.
EngineName = Literal["durable-rules", "reference"]
ENGINES: tuple[EngineName, ...] = get_args(EngineName)
#: What to run to get the durable-rules engine (it is the ``durable`` extra: pip builds it with a C compiler).
DURABLE_INSTALL = "pip install 'commissioning-rules[durable]'"


def engine_name(value: str | None) -> EngineName | None:
    """``value`` as an :data:`EngineName` (``None`` stays ``None``: the default engine); ``ValueError`` if it names
    no engine. For names that come from outside (the command line, a request)."""
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
    if sys.version_info >= (3, 13):
        return ("the durable-rules engine does not run on Python 3.13 or later (durable-rules 2.0.28 does not "
                "import there); use engine 'reference', which gives the same decisions")
    if isinstance(error, ModuleNotFoundError) and (error.name or "").split(".")[0] in ("durable", "durable_rules"):
        return (f"the durable-rules engine is not installed: run `{DURABLE_INSTALL}` (it needs a C compiler), "
                "or use engine 'reference', which gives the same decisions")
    return f"the durable-rules engine does not import here ({error}); use engine 'reference'"


def default_engine() -> EngineName:
    """``"durable-rules"`` where it is installed and imports, else ``"reference"``."""
    return "durable-rules" if durable_available() else "reference"


def build_engine(name: str, rules: Sequence[Rule]) -> Any:
    """Compile ``rules`` for the engine called ``name``; :class:`EngineUnavailable` if it cannot run here."""
    if name == "reference":
        return ReferenceEngine(rules)
    if name == "durable-rules":
        reason = durable_unavailable_reason()
        if reason is not None:
            raise EngineUnavailable(reason)
        from commissioning_rules.engine.durable import DurableEngine

        return DurableEngine(rules)
    engine_name(name)  # raises, naming the engines
    raise AssertionError(name)
