"""Field types shared by the models: money in pounds as ``Decimal``, ISO dates, strict booleans."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from typing import Annotated, Any

from pydantic import AfterValidator, BeforeValidator, ConfigDict, Field, Strict, StrictBool, StrictStr, ValidationError
from pydantic_core import InitErrorDetails, PydanticCustomError

#: The largest amount of money a case may state (a sanity bound, not a policy threshold).
MAX_MONEY = Decimal("1000000000000")
#: The deepest nesting of objects and lists a case may have. The contract's deepest value is 3 levels down
#: (``service.additional_criteria[0].met``); anything past this bound is refused before any field is read, so
#: a hostile input cannot exhaust the stack (Python's ``enum`` writes its error with the value's ``repr``).
MAX_NESTING = 16

MONEY_EXPECTED = 'expected money as a decimal string in pounds such as "5000.00", or a whole number; never a float'
DATE_EXPECTED = "expected a date as YYYY-MM-DD"


_POUNDS_AND_PENCE = re.compile(r"[0-9]+(\.[0-9]{1,2})?")


def _plain_amount(value: Any) -> Any:
    """Money written as text must be plain pounds and pence (``5000.01``): no exponent, sign, ``_`` or other digits.
    A float is refused whatever its value (the contract: a binary fraction is not an amount of pence)."""
    if isinstance(value, float):
        raise ValueError(f"{MONEY_EXPECTED}, got {value!r}")
    if isinstance(value, str) and not _POUNDS_AND_PENCE.fullmatch(value):
        raise ValueError(f"expected an amount in pounds and pence such as 5000.01, got {value!r}")
    return value


def _two_places(value: Decimal) -> Decimal:
    return abs(value).quantize(Decimal("0.01")) if value == 0 else value.quantize(Decimal("0.01"))


_YYYY_MM_DD = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def parse_date(text: str) -> dt.date:
    """``YYYY-MM-DD`` as a date; nothing else (``date.fromisoformat`` also takes ``20260401`` and ``2026-W14-3``).
    Raises ``ValueError`` saying what was expected."""
    if not _YYYY_MM_DD.fullmatch(text):
        raise ValueError(f"{DATE_EXPECTED}, got {text!r}")
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise ValueError(f"expected a real calendar date as YYYY-MM-DD, got {text!r}") from None


def _iso_date(value: Any) -> Any:
    """Accept a ``date`` or an ISO 8601 ``YYYY-MM-DD`` string; nothing else (no timestamps, no datetimes)."""
    if isinstance(value, dt.datetime):
        raise ValueError("expected a date (YYYY-MM-DD), not a date and time")
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        return parse_date(value)
    raise ValueError(f"{DATE_EXPECTED}, got {type(value).__name__}")


def _too_deep(value: Any) -> tuple[int | str, ...] | None:
    """Where ``value`` first nests objects and lists more than :data:`MAX_NESTING` deep, or ``None``.

    Iterative, so it cannot itself exhaust the stack. The path returned names the field: it stops at the
    fourth step, and trailing list positions are dropped (``organisation.kind``, not ``organisation.kind[0][0]``).
    """
    stack: list[tuple[Any, tuple[int | str, ...]]] = [(value, ())]
    while stack:
        node, path = stack.pop()
        if len(path) > MAX_NESTING:
            shown = list(path[:4])
            while len(shown) > 1 and isinstance(shown[-1], int):
                shown.pop()
            return tuple(shown)
        if isinstance(node, dict):
            stack.extend((v, (*path, str(k))) for k, v in node.items())
        elif isinstance(node, (list, tuple)):
            stack.extend((v, (*path, i)) for i, v in enumerate(node))
    return None


_NESTS = (dict, list, tuple)


def _nests_deeper(node: dict[Any, Any] | list[Any] | tuple[Any, ...], depth: int) -> bool:
    """Whether anything inside ``node`` (itself ``depth`` steps down) lies more than :data:`MAX_NESTING` steps down:
    what :func:`_too_deep` finds, without building a path for every value (every case is checked, and a case's
    values are many). It recurses at most :data:`MAX_NESTING` times, so it cannot exhaust the stack."""
    if depth >= MAX_NESTING:
        return len(node) > 0  # its values lie one step too far down
    for value in node.values() if isinstance(node, dict) else node:
        if isinstance(value, _NESTS) and _nests_deeper(value, depth + 1):
            return True
    return False


def refuse_deep_nesting(model: str, value: Any) -> None:
    """Raise a ``ValidationError`` naming the field where ``value`` nests more than :data:`MAX_NESTING` deep."""
    if not (isinstance(value, _NESTS) and _nests_deeper(value, 0)):
        return
    path = _too_deep(value)
    if path is not None:
        error = PydanticCustomError(
            "too_deeply_nested",
            "expected at most {limit} levels of nested objects and lists; this value is nested deeper",
            {"limit": MAX_NESTING},
        )
        raise ValidationError.from_exception_data(model, [InitErrorDetails(type=error, loc=path, input="(not shown)")])


#: Money in pounds: a finite, non-negative amount with at most two decimal places (pence).
Money = Annotated[
    Decimal,
    Field(ge=0, le=MAX_MONEY, decimal_places=2, allow_inf_nan=False),
    BeforeValidator(_plain_amount),
    AfterValidator(_two_places),
]
#: A calendar date, given as ``date`` or ``"YYYY-MM-DD"``.
IsoDate = Annotated[dt.date, BeforeValidator(_iso_date), Strict()]
Bool = StrictBool
Text = Annotated[StrictStr, Field(min_length=1, max_length=500)]

#: Every model rejects unknown fields and validates on assignment.
STRICT_MODEL = ConfigDict(extra="forbid", validate_assignment=True, frozen=True, use_enum_values=False)


def unstated_means(value: bool, why: str) -> Any:
    """A tri-state fact: ``None`` means not stated, and the rules read it as ``value`` (documented ``why``)."""
    return Field(default=None, json_schema_extra={"when_unstated": value, "why_unstated": why})
