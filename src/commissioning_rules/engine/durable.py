"""The durable_rules engine: the only module that imports durable_rules.

It compiles a policy's rule data into one durable ruleset, once, and evaluates each case in an isolated
session. Every trap listed on the docs site's engine notes (``docs/engines.md``) is defeated here:

* facts, not events: a case is one ``assert_facts`` call (events are consumed by the first rule that fires);
* no background dispatcher: :class:`_QuietHost` never starts the stock host's timer threads, so actions run
  only inside our call, on our thread;
* sessions are borrowed from a bounded pool of sids whose 32-bit FNV-1a hashes are checked distinct at
  start-up (durable looks sessions up by that hash), and are deleted in ``finally``;
* an action's exception is stored by durable as text in the state: we check it and raise;
* at least one action runs in every session, and every fact type is matched: a ``received`` rule per type;
* no ``none()``; negation is pushed into comparisons by the rule type; no ``$or`` (see
  :func:`disjunctive_normal_form`);
* money crosses as integer pence, dates as ordinals (``engine.values.encode``);
* the definition is deep-copied before durable sees it (``Ruleset()`` mutates the dict it is given).
"""

from __future__ import annotations

import copy
import itertools
import queue
from typing import Any, Mapping, Sequence

from durable import engine as _durable  # pyright: ignore[reportMissingImports]  # not installed on 3.13+

from commissioning_rules.engine.rule import AllOf, AnyOf, Compare, Condition, Param, Rule
from commissioning_rules.engine.values import Fact, encode, nested

#: Sessions live at once per compiled policy (durable fails at 1,024 per ruleset).
SESSION_POOL_SIZE = 256
_PARAMETERS_ALIAS = "p"
_SUBJECT_ALIAS = "m"
#: A fact's own values sit under this key, apart from durable's reserved ``sid`` and ``id`` (an additional
#: criterion has an ``id`` of its own).
_VALUES = "v"
_compiled_names = itertools.count()


class EngineError(RuntimeError):
    """durable_rules reported a failure while evaluating a case."""


def fnv1a_32(text: str) -> int:
    """The 32-bit FNV-1a hash durable_rules uses to find a session by its sid."""
    h = 0x811C9DC5
    for byte in text.encode("utf-8"):
        h = ((h ^ byte) * 0x01000193) & 0xFFFFFFFF
    return h


def _sid_pool(size: int) -> queue.SimpleQueue[str]:
    pool: queue.SimpleQueue[str] = queue.SimpleQueue()
    seen: set[int] = set()
    for n in itertools.count():
        if len(seen) == size:
            break
        sid = f"session-{n}"
        h = fnv1a_32(sid)
        if h not in seen:
            seen.add(h)
            pool.put(sid)
    return pool


_JSON_OPERATORS = {"neq": "$neq", "gt": "$gt", "gte": "$gte", "lt": "$lt", "lte": "$lte"}


def _comparison(condition: Compare) -> dict[str, Any]:
    operand = condition.operand
    path = f"{_VALUES}.{condition.path}"
    right = {_PARAMETERS_ALIAS: f"{_VALUES}.{operand.name}"} if isinstance(operand, Param) else encode(operand)
    if condition.operator == "eq" and not isinstance(operand, Param):
        return {path: right}
    op = "$eq" if condition.operator == "eq" else _JSON_OPERATORS[condition.operator]
    return {op: {path: right}}


def disjunctive_normal_form(condition: Condition) -> list[list[Compare]]:
    """``condition`` as a disjunction of conjunctions of comparisons.

    durable_rules mishandles ``$or``: a rule fires once per satisfied branch, and in a rule joined with the
    parameters fact a branch that does not read a parameter never fires (measured here). So each conjunction
    becomes a durable rule of its own, with no ``$or`` anywhere, and firings are merged per rule and fact.
    """
    if isinstance(condition, Compare):
        return [[condition]]
    if isinstance(condition, AnyOf):
        return [conj for c in condition.conditions for conj in disjunctive_normal_form(c)]
    assert isinstance(condition, AllOf)
    product: list[list[Compare]] = [[]]
    for c in condition.conditions:
        product = [left + right for left in product for right in disjunctive_normal_form(c)]
    return product


def _definition(rules: Sequence[Rule], fact_types: Sequence[str] = ()) -> dict[str, Any]:
    definition: dict[str, Any] = {}
    # Every fact type gets a rule that always matches it, whether or not any policy rule looks at it: a fact no
    # rule matches makes durable refuse the whole batch, and then free a garbage pointer on cleanup.
    for fact_type in sorted({"case", "parameters", *fact_types, *(r.subject for r in rules)}):
        definition[f"received {fact_type}"] = {
            "all": [{_SUBJECT_ALIAS: {"t": fact_type}}],
            "run": "received",
        }
    for index, rule in enumerate(rules):
        for branch, conjunction in enumerate(disjunctive_normal_form(rule.when)):
            reads_parameters = any(isinstance(c.operand, Param) for c in conjunction)
            subject = {_SUBJECT_ALIAS: {"$and": [{"t": rule.subject}, *map(_comparison, conjunction)]}}
            patterns = [{_PARAMETERS_ALIAS: {"t": "parameters"}}, subject] if reads_parameters else [subject]
            definition[f"r{index}.{branch}"] = {"all": patterns, "run": f"r{index}"}
    return definition


class _QuietHost(_durable.Host):  # type: ignore[misc]  # durable ships no types: Host is Any
    """A durable Host without the background dispatcher; actions record firings for the calling session."""

    def __init__(self, definitions: dict[str, Any], firings: dict[str, list[tuple[int, int]]]) -> None:
        self._firings = firings
        super().__init__(definitions)

    def _run(self) -> None:  # the stock host starts timer threads here
        return None

    def get_action(self, action_name: str) -> Any:
        firings = self._firings
        if action_name == "received":
            return lambda c: None
        index = int(action_name[1:])

        def record(c: Any) -> None:
            firings[c.s["sid"]].append((index, int(c.m["i"])))

        return record


class DurableEngine:
    """A policy's rules compiled into one durable ruleset; ``run`` evaluates one case in its own session."""

    name = "durable-rules"

    def __init__(self, rules: Sequence[Rule], fact_types: Sequence[str] = ()) -> None:
        """``fact_types``: the kinds of fact ``run`` may be given besides those the rules read."""
        self.rules = tuple(rules)
        self.ruleset = f"commissioning-{next(_compiled_names)}"
        self._firings: dict[str, list[tuple[int, int]]] = {}
        definition = copy.deepcopy({self.ruleset: _definition(self.rules, fact_types)})
        self._host = _QuietHost(definition, self._firings)
        self._sids = _sid_pool(SESSION_POOL_SIZE)

    def live_sessions(self) -> list[str]:
        """The sids durable still holds state for (none once every call has returned)."""
        live = []
        for n in itertools.count():
            sid = f"session-{n}"
            if n > 4 * SESSION_POOL_SIZE:
                break
            try:
                self._host.get_state(self.ruleset, sid)
            except Exception:  # durable raises "Could not get state" for a sid it does not hold
                continue
            live.append(sid)
        return live

    def idle_sessions(self) -> int:
        """Sids in the pool, not lent out."""
        return self._sids.qsize()

    def run(self, facts: Sequence[Fact], parameters: Mapping[str, Any]) -> list[tuple[int, int]]:
        sid = self._sids.get()  # blocks when every session is in use: the pool bounds live sessions
        try:
            self._firings[sid] = []
            batch: list[dict[str, Any]] = [{"sid": sid, "t": "parameters", _VALUES: dict(parameters)}]
            batch += [{"sid": sid, "t": f.type, "i": i, _VALUES: nested(f.values)} for i, f in enumerate(facts)]
            state = self._host.assert_facts(self.ruleset, batch)
            if isinstance(state, dict) and state.get("exception"):
                raise EngineError(f"a rule action failed: {state['exception']}")
            # Several branches of one rule may fire on a fact: one conclusion per rule and fact.
            return sorted(set(self._firings[sid]))
        finally:
            self._firings.pop(sid, None)
            try:
                self._host.delete_state(self.ruleset, sid)
            finally:
                self._sids.put(sid)
