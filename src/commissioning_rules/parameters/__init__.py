"""Named, effective-dated parameters (OpenFisca's discipline): every threshold a rule reads lives here.

Each YAML file in this package holds parameters as::

    accounts_threshold:
      description: ...
      unit: GBP            # GBP, months, integer, text, date or boolean
      section: "3.5.1"     # the framework section that states or implies it
      placeholder: false   # true where the framework defers to a figure the council is expected to set
      values:
        - effective_from: 2014-01-01
          value: "5000.00"
          source: "Commissioning framework 2014, 3.5.1: ..."

``Parameters.resolve(names, as_of)`` gives the value in force at ``as_of`` for each name; a parameter with no
value at that date is an error, never a silent default.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from importlib import resources
from typing import Any, Iterable, Mapping

import yaml

UNITS = ("GBP", "months", "integer", "text", "date", "boolean")


class ParameterError(ValueError):
    """A parameter file or value is malformed, or a parameter has no value in force at a date."""


@dataclass(frozen=True)
class ParameterValue:
    effective_from: dt.date
    value: Any
    source: str


@dataclass(frozen=True)
class Parameter:
    name: str
    description: str
    unit: str
    section: str
    placeholder: bool
    values: tuple[ParameterValue, ...]  # sorted by effective_from

    def at(self, as_of: dt.date) -> ParameterValue:
        """The value in force at ``as_of``."""
        in_force = [v for v in self.values if v.effective_from <= as_of]
        if not in_force:
            first = self.values[0].effective_from if self.values else None
            raise ParameterError(
                f"parameter {self.name!r} has no value in force at {as_of.isoformat()}"
                + (f" (its first value takes effect on {first.isoformat()})" if first else "")
            )
        return in_force[-1]

    def show(self, value: Any) -> str:
        """A value as a person reads it: ``£5,000.00``, ``3 months``."""
        if self.unit == "GBP":
            return f"£{value:,.2f}"
        if self.unit == "months":
            return f"{value} month" + ("" if value == 1 else "s")
        if self.unit == "date":
            return str(value.isoformat())
        return str(value)


#: No parameter amount reaches this (13 digits of pounds): a sanity bound, not a policy figure.
_MONEY_BOUND = Decimal(10) ** 13


def _convert(name: str, unit: str, raw: Any) -> Any:
    if unit == "GBP":
        if isinstance(raw, bool) or not isinstance(raw, (str, int)):
            raise ParameterError(f"{name}: a GBP value must be written as a quoted decimal string, got {raw!r}")
        try:
            value = Decimal(str(raw))
        except InvalidOperation:
            raise ParameterError(f"{name}: {raw!r} is not an amount of money") from None
        if not value.is_finite() or value < 0:
            raise ParameterError(f"{name}: {raw!r} is not a non-negative amount in pounds and pence")
        if value >= _MONEY_BOUND:  # also keeps quantize within the decimal context (29 digits raised there)
            shown = repr(raw) if len(str(raw)) <= 40 else f"an amount of {len(str(raw))} characters"
            raise ParameterError(f"{name}: {shown} is more than an amount of money can be (under £10,000,000,000,000)")
        if value != value.quantize(Decimal("0.01")):
            raise ParameterError(f"{name}: {raw!r} is not a non-negative amount in pounds and pence")
        return value.quantize(Decimal("0.01"))
    if unit in ("months", "integer"):
        if isinstance(raw, bool) or not isinstance(raw, int) or raw < 0:
            raise ParameterError(f"{name}: expected a non-negative whole number, got {raw!r}")
        return raw
    if unit == "boolean":
        if not isinstance(raw, bool):
            raise ParameterError(f"{name}: expected true or false, got {raw!r}")
        return raw
    if unit == "date":
        if isinstance(raw, dt.date) and not isinstance(raw, dt.datetime):
            return raw
        raise ParameterError(f"{name}: expected a date YYYY-MM-DD, got {raw!r}")
    if not isinstance(raw, str):
        raise ParameterError(f"{name}: expected text, got {raw!r}")
    return raw


def parse_parameter(name: str, data: Any, origin: str) -> Parameter:
    """Build one parameter from its YAML mapping; errors name ``origin`` (the file) and the key."""
    where = f"{origin}: {name}"
    if not isinstance(data, dict):
        raise ParameterError(f"{where}: expected a mapping")
    allowed = {"description", "unit", "section", "placeholder", "values"}
    unknown = set(data) - allowed
    if unknown:
        raise ParameterError(f"{where}: unknown keys {sorted(unknown)}; expected {sorted(allowed)}")
    unit = data.get("unit")
    if unit not in UNITS:
        raise ParameterError(f"{where}.unit: expected one of {UNITS}, got {unit!r}")
    values = data.get("values")
    if not isinstance(values, list) or not values:
        raise ParameterError(f"{where}.values: expected a non-empty list of dated values")
    parsed = []
    for i, entry in enumerate(values):
        at = f"{where}.values[{i}]"
        if not isinstance(entry, dict) or set(entry) - {"effective_from", "value", "source"}:
            raise ParameterError(f"{at}: expected a mapping with effective_from, value and source")
        start = entry.get("effective_from")
        if not isinstance(start, dt.date) or isinstance(start, dt.datetime):
            raise ParameterError(f"{at}.effective_from: expected a date YYYY-MM-DD, got {start!r}")
        source = entry.get("source")
        if not isinstance(source, str) or not source.strip():
            raise ParameterError(f"{at}.source: every value must cite its source")
        if "value" not in entry:
            raise ParameterError(f"{at}.value: missing")
        parsed.append(ParameterValue(start, _convert(at, unit, entry["value"]), source.strip()))
    parsed.sort(key=lambda v: v.effective_from)
    starts = [v.effective_from for v in parsed]
    if len(set(starts)) != len(starts):
        raise ParameterError(f"{where}.values: two values take effect on the same date")
    for key in ("description", "section"):
        if not isinstance(data.get(key), str):
            raise ParameterError(f"{where}.{key}: expected text")
    placeholder = data.get("placeholder", False)
    if not isinstance(placeholder, bool):
        raise ParameterError(f"{where}.placeholder: expected true or false")
    return Parameter(name, data["description"], unit, data["section"], placeholder, tuple(parsed))


def load_parameter_file(text: str, origin: str) -> dict[str, Parameter]:
    """Parse a YAML parameter document (safe loader: nothing in it is executed)."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as error:
        raise ParameterError(f"{origin}: not valid YAML: {error}") from None
    if not isinstance(data, dict):
        raise ParameterError(f"{origin}: expected a mapping of parameter names")
    return {name: parse_parameter(name, body, origin) for name, body in data.items()}


def default_parameters() -> dict[str, Parameter]:
    """Every parameter shipped with the library (the Norwich framework's figures and documented defaults)."""
    found: dict[str, Parameter] = {}
    for entry in sorted(resources.files(__name__).iterdir(), key=lambda e: e.name):
        if entry.name.endswith(".yaml"):
            for name, parameter in load_parameter_file(entry.read_text("utf-8"), entry.name).items():
                if name in found:
                    raise ParameterError(f"{entry.name}: parameter {name!r} is defined twice")
                found[name] = parameter
    return found


@dataclass(frozen=True)
class ResolvedParameters:
    """The parameters' values in force at one date."""

    as_of: dt.date
    parameters: Mapping[str, Parameter]
    values: Mapping[str, ParameterValue]

    def __getitem__(self, name: str) -> Any:
        return self.values[name].value

    def shown(self, name: str) -> str:
        return self.parameters[name].show(self.values[name].value)


def resolve(parameters: Mapping[str, Parameter], names: Iterable[str], as_of: dt.date) -> ResolvedParameters:
    values = {}
    for name in sorted(set(names)):
        if name not in parameters:
            raise ParameterError(f"parameter {name!r} is used by a rule but not defined by the policy")
        values[name] = parameters[name].at(as_of)
    return ResolvedParameters(as_of, parameters, values)
