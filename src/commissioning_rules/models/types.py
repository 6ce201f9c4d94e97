"""Field types shared by the models: money in pounds as ``Decimal``, ISO dates, strict booleans."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from typing import Annotated, Any

from pydantic import AfterValidator, BeforeValidator, ConfigDict, Field, Strict, StrictBool, StrictStr

#: The largest amount of money a case may state (a sanity bound, not a policy threshold).
MAX_MONEY = Decimal("1000000000000")


_POUNDS_AND_PENCE = re.compile(r"[0-9]+(\.[0-9]{1,2})?")


def _plain_amount(value: Any) -> Any:
    """Money written as text must be plain pounds and pence (``5000.01``): no exponent, sign, ``_`` or other digits."""
    if isinstance(value, str) and not _POUNDS_AND_PENCE.fullmatch(value):
        raise ValueError(f"expected an amount in pounds and pence such as 5000.01, got {value!r}")
    return value


def _two_places(value: Decimal) -> Decimal:
    return abs(value).quantize(Decimal("0.01")) if value == 0 else value.quantize(Decimal("0.01"))


def _iso_date(value: Any) -> Any:
    """Accept a ``date`` or an ISO 8601 ``YYYY-MM-DD`` string; nothing else (no timestamps, no datetimes)."""
    if isinstance(value, dt.datetime):
        raise ValueError("expected a date (YYYY-MM-DD), not a date and time")
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            raise ValueError(f"expected a real calendar date as YYYY-MM-DD, got {value!r}") from None
    raise ValueError(f"expected a date as YYYY-MM-DD, got {type(value).__name__}")


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
