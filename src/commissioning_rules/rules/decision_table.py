"""Decision tables as rule data (DMN style): rows of cells over named columns, with the unique hit policy.

A row is one :class:`~commissioning_rules.engine.rule.Rule` whose condition is the conjunction of its cells: ``ANY``
tests nothing, a tuple is one of its values, anything else an equality. Cells never negate, so a row's only
disjunctions are between exclusive values of one fact: at most one branch holds, and every engine fires a row at
most once per case. Under the unique hit policy the rows are mutually exclusive and cover every input, so exactly
one fires; each table's tests prove it by enumerating the whole input domain on every engine.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence

from commissioning_rules.engine.rule import Condition, Conclusion, DecisionTable, Firing, Rule, all_of, eq, one_of

#: A cell that tests nothing ("-" in a table).
ANY = None


def row_condition(columns: tuple[str, ...], cells: tuple[Any, ...]) -> Condition:
    """The condition of one row: every column gets a cell (``ANY``, a value, or a tuple of values)."""
    tests = [
        one_of(path, cell) if isinstance(cell, tuple) else eq(path, cell)
        for path, cell in zip(columns, cells, strict=True)
        if cell is not ANY
    ]
    return all_of(*tests)


@dataclass(frozen=True)
class UniqueHitTable:
    """A unique-hit table: rule ids ``<name>.<row>``, conclusions on ``topic``, reasons ending with ``facts``."""

    name: str
    section: str
    topic: str
    columns: tuple[str, ...]
    facts: str  # a ``because`` template showing every column's value

    def row(self, row: str, cells: tuple[Any, ...], outcome: str, source: str, because: str) -> Rule:
        return Rule(
            f"{self.name}.{row}", self.section, source, row_condition(self.columns, cells),
            Conclusion(self.topic, outcome), f"{because} ({self.facts})",
        )

    @property
    def declaration(self) -> DecisionTable:
        """The table declared to ``commissioning_rules.check``, which proves it complete and without overlap."""
        return DecisionTable(self.topic, id_prefix=f"{self.name}.")

    def hit(self, firings: Sequence[Firing]) -> Firing:
        """The one row that fired (more or fewer is a broken table, never a property of valid input)."""
        if len(firings) != 1:
            fired = [f.rule.id for f in firings]
            raise RuntimeError(f"{self.section} decision table: expected exactly one row to fire, got {fired}")
        return firings[0]
