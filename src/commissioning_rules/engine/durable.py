"""The durable_rules engine: the only module that imports durable_rules.

It compiles a policy's rule data into one durable ruleset, once, and evaluates each case in an isolated
session. Every trap listed on the docs site's engine notes (``docs/engines.md``) is defeated here:

* facts, not events: a case is one ``assert_facts`` call (events are consumed by the first rule that fires);
* no background dispatcher: :class:`_QuietHost` never starts the stock host's timer threads, so actions run
  only inside our call, on our thread;
* no wall clock: durable's own action loop (``Ruleset._flush_actions``) gives up on a session once 10 seconds
  of local wall-clock time (``_unix_now()``, ``datetime.now()``) have passed since an action began, and returns
  as if the case were done, its remaining actions silently dropped. A loaded machine, a long GC pause, a
  suspended container, an NTP step or a daylight-saving change all trigger it. :class:`_SynchronousRuleset`
  runs the actions itself, one after the other until durable has none left for the session, reading no
  clock (our actions are synchronous: there is nothing to time out). The C core's own 30-second action lease
  (``STATE_LEASE_TIME``) only holds back an action that is started and not completed or abandoned; the loop
  always does one or the other before returning;
* an unfinished evaluation cannot be returned: :meth:`DurableEngine.run` raises :class:`EngineError` unless
  durable reports the session's action chain complete (the stock loop, when it gives up, reports nothing);
* fixed-size tables in the C engine: past them durable returns an error part-way through an assertion and
  leaves a half-built session that crashes the process when it is freed (``munmap_chunk(): invalid
  pointer``), or it loops for ever, or it writes past an array (a segfault). :func:`durable_limits` finds a
  policy that could reach one, before durable sees it: :class:`DurableEngine` then refuses to be built
  (``EngineError``, naming the limit and the reference engine) and ``check`` reports it. A fact with too many
  keys is refused before it is asserted. Should durable still fail inside an assertion, the session is not
  freed and the engine refuses every later case.
* sessions are borrowed from a bounded pool of sids whose 32-bit FNV-1a hashes are checked distinct at
  start-up (durable looks sessions up by that hash), and are deleted in ``finally``;
* an action's exception: in our loop the action is abandoned and the exception raised as ``EngineError``; durable's
  own loop would store it as text in the state, which is checked and raised too;
* an action costs what its message costs: durable hands each one over as JSON text holding every matched fact.
  Only the attributes some rule reads cross (a smaller fact), and the text is decoded only when the rule's
  subject is a kind of fact the case has several of (the rule's name, ours, is read off the text);
* at least one action runs in every session, and every fact type is matched: a ``received`` rule per type;
* no ``none()``; negation is pushed into comparisons by the rule type; no ``$or`` (see
  :func:`disjunctive_normal_form`);
* money crosses as integer pence, dates as ordinals (``engine.values.encode``);
* the definition is deep-copied before durable sees it (``Ruleset()`` mutates the dict it is given).
"""

from __future__ import annotations

import collections
import copy
import itertools
import json
import queue
from dataclasses import dataclass, field
from typing import Any, Mapping, Sequence

import durable_rules_engine as _c_engine  # pyright: ignore[reportMissingImports]  # not installed on 3.13+
from durable import engine as _durable  # pyright: ignore[reportMissingImports]  # not installed on 3.13+

from commissioning_rules.engine.rule import AllOf, AnyOf, Compare, Condition, Param, Rule, paths_of
from commissioning_rules.engine.values import Fact, encode, plain, nested

#: Sessions live at once per compiled policy (durable fails at 1,024 per ruleset).
SESSION_POOL_SIZE = 256
_PARAMETERS_ALIAS = "p"
_SUBJECT_ALIAS = "m"
#: A fact's own values sit under this key, apart from durable's reserved ``sid`` and ``id`` (an additional
#: criterion has an ``id`` of its own).
_VALUES = "v"
_compiled_names = itertools.count()


class EngineError(RuntimeError):
    """durable_rules reported a failure while evaluating a case, or cannot run this policy safely."""


# --- durable's fixed-size tables ------------------------------------------------------------------------
# durable_rules 2.0.28's C engine (src/rules/events.c, rete.h, state.h) sizes these tables at compile time.
# Each figure was measured here at and one past the limit (tests/test_durable_limits.py).

#: ``MAX_STACK_SIZE``: conditions that have matched one fact and wait on durable's stack to be followed. 64 on
#: the stack is fine; the 65th is error 303 in the middle of an assertion, and the session is then corrupt.
MAX_MATCH_STACK = 64
#: ``MAX_OBJECT_PROPERTIES`` (255) less the id durable adds: the keys of one fact, nested keys and objects
#: included. 253 are fine; 254 write past the table (a segfault, or a corrupt heap).
MAX_FACT_KEYS = 253
#: ``BETA_LIST_LENGTH`` (256) less the slot that ends the list: durable rules whose conditions end at one node
#: (e.g. every rule that reads a parameter ends at the node that matches the parameters fact). 255 are fine;
#: past them durable reads and writes beyond the list (undefined: measured a segfault, a refusal with error
#: 108, and a run that seemed fine).
MAX_RULES_AT_ONE_NODE = 255
REFERENCE_INSTEAD = "evaluate this policy with engine='reference' (the same rules, without durable's tables)"


def _alpha_network(definition: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """durable's alpha network as it builds it from ``definition``: per fact type, a tree of the conditions
    (in ``$and`` order, identical conditions under one parent shared, rete.c ``findAlpha``); each node counts
    the rule patterns ending there under the key ``None``."""
    roots: dict[str, dict[Any, Any]] = {}
    for rule in definition.values():
        for pattern in rule["all"]:
            ((_alias, body),) = pattern.items()
            conditions = body["$and"] if "$and" in body else [body]
            node = roots.setdefault(conditions[0]["t"], {None: 0})
            for condition in conditions[1:]:
                node = node.setdefault(json.dumps(condition, sort_keys=True), {None: 0})
            node[None] += 1
    return roots


def _equality_path(condition: str) -> str | None:
    """The path an equality with a constant tests (``{"v.kind": "charity"}``), else ``None``."""
    ((path, value),) = json.loads(condition).items()
    return None if path.startswith("$") or isinstance(value, dict) else path


def _worst_stack(node: Mapping[Any, Any], pending: int = 0) -> int:
    """The most conditions durable's matching stack can hold below ``node`` (events.c ``handleAlpha``).

    Matching a fact, durable pops a condition and pushes every child condition the fact satisfies. At worst
    every child is satisfied, except that equalities of one path with different constants exclude each other
    (one at most); and the child followed first leaves all its siblings waiting.
    """
    children = [key for key in node if key is not None]
    paths = {_equality_path(key) for key in children} - {None}
    satisfied = sum(1 for key in children if _equality_path(key) is None) + len(paths)
    return max([pending + satisfied] + [_worst_stack(node[key], pending + satisfied - 1) for key in children])


def _most_rules_at_one_node(node: Mapping[Any, Any]) -> int:
    here: int = node[None]
    return max([here] + [_most_rules_at_one_node(node[key]) for key in node if key is not None])


def _fact_keys(values: Mapping[str, Any]) -> int:
    return sum(1 + (_fact_keys(v) if isinstance(v, dict) else 0) for v in values.values())


def durable_limits(rules: Sequence[Rule], fact_types: Sequence[str] = ()) -> list[str]:
    """Why durable_rules cannot run ``rules`` safely (empty when it can): each fixed table of its C engine that
    some case could overflow. The bounds hold for every case, so a policy that passes never reaches them."""
    definition = _definition(rules, fact_types)
    problems = []
    for fact_type, root in sorted(_alpha_network(definition).items()):
        stack = _worst_stack(root)
        if stack > MAX_MATCH_STACK:
            problems.append(
                f"a {fact_type} fact can satisfy {stack} conditions at once in durable's matching stack, which holds "
                f"{MAX_MATCH_STACK} (MAX_STACK_SIZE): fewer rules on {fact_type} facts, or conditions that exclude "
                "each other (equal to different values), would fit"
            )
        shared = _most_rules_at_one_node(root)
        if shared > MAX_RULES_AT_ONE_NODE:
            problems.append(
                f"{shared} durable rules end at one condition on {fact_type} facts, and durable links at most "
                f"{MAX_RULES_AT_ONE_NODE} (BETA_LIST_LENGTH)"
            )
    parameters = {name for rule in rules for name in rule.cites}  # at most these cross in the parameters fact
    keys = len(parameters) + 3  # sid, t and the object holding the values
    if keys > MAX_FACT_KEYS:
        problems.append(
            f"the parameters fact would have {keys} keys ({len(parameters)} parameters), and durable holds "
            f"{MAX_FACT_KEYS} per fact (MAX_OBJECT_PROPERTIES)"
        )
    return problems


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


class _SynchronousRuleset(_durable.Ruleset):  # type: ignore[misc]  # durable ships no types
    """durable's Ruleset with its action loop replaced by one that reads no clock and runs our one action itself.

    The loop is durable's own (``Ruleset._flush_actions`` in durable 2.0.28) less its wall-clock cut-off
    (``Closure._has_completed``) and less what our action does not need: every rule's action only notes that
    it fired (:meth:`_QuietHost.fired`), so no ``Closure`` is built for it (nor the clock read that builds one),
    and the session's state, which no action changes, is not written back (``update_state``).
    ``complete_and_start_action`` hands over the session's next action until there is none. ``complete`` is
    called exactly once: with the final state when durable has no action left, or with the error.
    """

    def _flush_actions(self, state: Any, result_container: dict[str, Any], state_offset: int, complete: Any) -> None:
        started = False
        try:
            message: dict[str, Any] | str = result_container.pop("message")  # the first: decoded by durable
            while message:
                started = True
                self._host.fired(state["sid"], message)
                message = _c_engine.complete_and_start_action(self._handle, state_offset)
                started = False
        except BaseException as error:
            if started:
                _c_engine.abandon_action(self._handle, state_offset)
            complete(error, None)
            return
        complete(None, state)


class _QuietHost(_durable.Host):  # type: ignore[misc]  # durable ships no types: Host is Any
    """A durable Host without the background dispatcher and with :class:`_SynchronousRuleset`; actions record
    firings for the calling session."""

    def __init__(self, definitions: dict[str, Any], sessions: dict[str, _Session], subjects: Sequence[str]) -> None:
        self._sessions = sessions
        self._subjects = subjects
        super().__init__(definitions)

    def _run(self) -> None:  # the stock host starts timer threads here
        return None

    def register_rulesets(self, ruleset_definitions: dict[str, Any]) -> list[str]:
        # The stock method builds durable's own Ruleset (with the wall-clock loop); we use no store callbacks.
        for name, definition in ruleset_definitions.items():
            if name in self._ruleset_directory:
                raise EngineError(f"ruleset {name!r} is already registered")
            ruleset = _SynchronousRuleset(name, self, definition)
            self._ruleset_directory[name] = ruleset
            self._ruleset_list.append(ruleset)
        return list(ruleset_definitions)

    def get_action(self, action_name: str) -> Any:
        """Each rule's action as durable's own loop would run it, on a ``Closure`` (:class:`_SynchronousRuleset`
        calls :meth:`fired` instead; the tests put durable's loop back to show what it would do)."""
        if action_name == "received":
            return lambda c: None
        index = int(action_name[1:])

        def record(c: Any) -> None:
            self._sessions[c.s["sid"]].firings.append((index, int(c.m["i"])))

        return record

    def fired(self, sid: str, message: Mapping[str, Any] | str) -> None:
        """Note the firing in ``message``: durable's ``{rule name: {alias: fact, ...}}``, as a mapping or as its
        JSON text (decoded only when needed: see :func:`_rule_name`). Rule ``r<index>.<branch>`` fired on its
        subject fact; a ``received`` rule notes nothing."""
        name = _rule_name(message)
        if name.startswith("received "):
            return
        session = self._sessions[sid]
        index = int(name[1:].split(".", 1)[0])
        fact = session.only.get(self._subjects[index])
        if fact is None:  # several facts of the rule's subject type: which one is in the message
            matched = json.loads(message) if isinstance(message, str) else message
            fact = int(matched[name][_SUBJECT_ALIAS]["i"])
        session.firings.append((index, fact))


def _rule_name(message: Mapping[str, Any] | str) -> str:
    """The rule an action message is for. Its JSON text is ``{"<rule name>":{...}}`` with our rule names, which
    hold no character JSON escapes, so the name is read off the text: decoding a whole message (every matched
    fact, ~2 kB) for its name cost more than the rest of the action."""
    if isinstance(message, str):
        if not message.startswith('{"'):
            raise EngineError(f"durable_rules sent an action message this engine does not read: {message[:80]!r}")
        return message[2:message.index('"', 2)]
    return next(iter(message))


@dataclass
class _Session:
    """What one case's session has fired, and the index of each kind of fact the case has exactly one of (its
    firings need no look into the message to say which fact fired)."""

    only: dict[str, int]
    firings: list[tuple[int, int]] = field(default_factory=list)


class DurableEngine:
    """A policy's rules compiled into one durable ruleset; ``run`` evaluates one case in its own session."""

    name = "durable-rules"

    def __init__(self, rules: Sequence[Rule], fact_types: Sequence[str] = ()) -> None:
        """``fact_types``: the kinds of fact ``run`` may be given besides those the rules read."""
        self.rules = tuple(rules)
        #: The attributes some rule reads, per kind of fact: only these cross to durable (a smaller fact is
        #: faster to assert and to hand back in every action's message, and no rule can tell the difference).
        self._reads: dict[str, frozenset[str]] = {}
        for rule in self.rules:
            self._reads[rule.subject] = self._reads.get(rule.subject, frozenset()) | paths_of(rule.when)
        #: Kinds of fact whose largest possible fact (every attribute read) fits durable's table: not counted again.
        self._always_fit = frozenset(
            kind for kind, reads in self._reads.items()
            if _fact_keys({"sid": "", "t": kind, "i": 0, _VALUES: nested(dict.fromkeys(reads, 0))}) <= MAX_FACT_KEYS
        )
        problems = durable_limits(self.rules, fact_types)
        if problems:
            raise EngineError(f"durable-rules cannot run this policy safely: {'; '.join(problems)}. {REFERENCE_INSTEAD}")
        self.ruleset = f"commissioning-{next(_compiled_names)}"
        self._sessions: dict[str, _Session] = {}
        definition = copy.deepcopy({self.ruleset: _definition(self.rules, fact_types)})
        try:
            self._host = _QuietHost(definition, self._sessions, [rule.subject for rule in self.rules])
        except _c_engine.error as error:  # a table durable checks itself, when the ruleset is built
            raise EngineError(f"durable-rules refused this policy ({error}). {REFERENCE_INSTEAD}") from None
        self._sids = _sid_pool(SESSION_POOL_SIZE)
        #: Set when durable failed inside an assertion: its state is then not to be trusted, nor freed.
        self._broken: str | None = None

    def _read(self, fact_type: str, values: Mapping[str, Any]) -> dict[str, Any]:
        reads = self._reads.get(fact_type, frozenset())
        return {path: value for path, value in values.items() if path in reads}

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
        if self._broken:
            raise EngineError(f"this durable-rules engine failed earlier ({self._broken}). {REFERENCE_INSTEAD}")
        batch: list[dict[str, Any]] = [{"sid": "", "t": "parameters", _VALUES: dict(parameters)}]
        batch += [
            {"sid": "", "t": f.type, "i": i, _VALUES: nested(self._read(f.type, plain(f.values)))} for i, f in enumerate(facts)
        ]
        for fact in batch:
            if fact["t"] not in self._always_fit and _fact_keys(fact) > MAX_FACT_KEYS:
                raise EngineError(
                    f"a {fact['t']} fact has {_fact_keys(fact)} keys and durable holds {MAX_FACT_KEYS} per fact "
                    f"(MAX_OBJECT_PROPERTIES). {REFERENCE_INSTEAD}"
                )
        sid = self._sids.get()  # blocks when every session is in use: the pool bounds live sessions
        for fact in batch:
            fact["sid"] = sid
        corrupt = False
        try:
            counts = collections.Counter(f.type for f in facts)
            self._sessions[sid] = _Session({f.type: i for i, f in enumerate(facts) if counts[f.type] == 1})
            try:
                state = self._host.assert_facts(self.ruleset, batch)
            except _c_engine.error as error:
                # durable stopped part-way (a table full): freeing this session would crash the process.
                corrupt = True
                self._broken = str(error)
                raise EngineError(f"durable-rules failed part-way through a case ({error}). {REFERENCE_INSTEAD}") from None
            except EngineError:
                raise
            except Exception as error:  # raised by an action, in our loop (it was abandoned there)
                raise EngineError(f"a rule action failed: {type(error).__name__}: {error}") from error
            # Our loop hands back the session's final state once durable has no action left for it; anything
            # else (durable's stock loop returns 0 when it drops the remaining actions) is an evaluation
            # that did not finish, and its firings are incomplete.
            if not isinstance(state, dict) or state.get("sid") != sid:
                raise EngineError(
                    "durable_rules returned before running every action for this case; its result is incomplete"
                )
            if state.get("exception"):
                raise EngineError(f"a rule action failed: {state['exception']}")
            # Several branches of one rule may fire on a fact: one conclusion per rule and fact.
            return sorted(set(self._sessions[sid].firings))
        finally:
            self._sessions.pop(sid, None)
            if not corrupt:  # a corrupt session is left alone, and its sid retired with it
                try:
                    self._host.delete_state(self.ruleset, sid)
                finally:
                    self._sids.put(sid)
