"""Recording, verifying and replaying decisions: the operations over a :class:`RecordStore`.

``evaluate_and_record`` evaluates a case and stores its record (the Decision is returned only once the record
is committed). ``verify`` walks the whole chain and recomputes every hash. ``replay`` evaluates a record's
stored input again, under its stored policy, date and engine, and reports identical or the differences in
``compare``'s format.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal, Mapping

from pydantic import BaseModel, ConfigDict, ValidationError

from commissioning_rules.batch import field_path, load_json
from commissioning_rules.compare import Change, changes, flatten
from commissioning_rules.engine import EngineName, engine_name
from commissioning_rules.evaluate import evaluate
from commissioning_rules.models.case import Case
from commissioning_rules.models.decision import Decision
from commissioning_rules.parameters import ParameterError
from commissioning_rules.policy import Policy
from commissioning_rules.records.model import (
    GENESIS,
    Draft,
    PolicySource,
    PurgedRun,
    PurgeMarker,
    Record,
    RecordsError,
    canonical_json,
    code_sha256,
    library_version,
    marker_hash,
    record_hash,
    recorded,
    sha256,
)
from commissioning_rules.records.store import RecordStore

_VALUE = ConfigDict(extra="forbid", frozen=True)


def evaluate_and_record(
    store: RecordStore,
    case: Case | Mapping[str, Any],
    *,
    policy: Policy | None = None,
    policy_text: str | None = None,
    as_of: dt.date | str | None = None,
    engine: EngineName | None = None,
    supersedes: str | None = None,
) -> tuple[Decision, Record]:
    """Evaluate ``case`` (as :func:`commissioning_rules.evaluate`) and store its record in ``store``.

    ``policy_text`` is the text of the policy file ``policy`` was loaded from (read from ``policy.origin`` when
    not given). ``supersedes`` names the record this one corrects. Raises :class:`RecordsError` (or its
    ``StoreUnavailable``) when the record cannot be stored: the decision is then not returned at all.
    """
    case = case if isinstance(case, Case) else Case.model_validate(case)
    source = PolicySource.of(policy, policy_text)
    decision = evaluate(case, policy=policy, as_of=as_of, engine=engine_name(engine))
    (record,) = store.append([Draft.of(case, decision, source, supersedes=supersedes)])
    return decision, record


# --- verify -----------------------------------------------------------------------------------------------

ProblemKind = Literal["entry_edited", "input_edited", "decision_edited", "policy_text", "broken_link", "missing",
                      "duplicate", "head"]


class Problem(BaseModel):
    """One thing wrong with the chain, naming the entry (record or purge marker) where it was found."""

    model_config = _VALUE

    kind: ProblemKind
    seq: int | None
    entry_id: str | None
    message: str

    def __str__(self) -> str:
        return self.message


class Verification(BaseModel):
    """The result of walking the chain: ``intact`` or the problems found, and what was walked."""

    model_config = _VALUE

    intact: bool
    records: int
    markers: int
    purged: int
    head_seq: int
    head_hash: str
    problems: list[Problem]

    def __str__(self) -> str:
        walked = (f"{self.records} records, {self.markers} purge markers ({self.purged} records purged); "
                  f"head {self.head_seq} {self.head_hash}")
        if self.intact:
            return f"intact: {walked}"
        return "\n".join([f"BROKEN: {len(self.problems)} problem(s) in {walked}", *(f"  {p}" for p in self.problems)])


def verify(store: RecordStore) -> Verification:
    """Walk the whole chain of ``store`` and check every hash: each record's input, decision and policy text
    against their SHA-256, each entry's own hash over its fields, each link to the entry before it, every gap
    accounted for by a purge marker, and the head row naming the last entry."""
    runs: dict[int, PurgedRun] = {run.first_seq: run for marker in store.markers() for run in marker.runs}
    problems: list[Problem] = []
    policies: dict[str, bool] = {}
    expected: str | None = GENESIS
    last_seq, records, markers, purged = 0, 0, 0, 0

    def problem(kind: ProblemKind, entry: Any, message: str) -> None:
        entry_id = getattr(entry, "record_id", None) or getattr(entry, "marker_id", None)
        problems.append(Problem(kind=kind, seq=getattr(entry, "seq", None), entry_id=entry_id, message=message))

    for entry in store.chain():
        name = _name(entry)
        if entry.seq <= last_seq:
            problem("duplicate", entry, f"{name}: chain position {entry.seq} is used twice")
            continue
        position = last_seq + 1
        while position < entry.seq:  # a gap: purge markers must account for every position in it
            run = runs.get(position)
            if run is None or run.last_seq >= entry.seq:
                problem("missing", entry, f"chain positions {position} to {entry.seq - 1}, before {name}, are "
                                          "missing and no purge marker accounts for them: deleted outside a purge")
                expected = None
                break
            if expected is not None and run.prev_hash != expected:
                problem("broken_link", entry, f"the purge of positions {run.first_seq} to {run.last_seq} does not "
                                              "follow the entry before it")
            purged += run.last_seq - run.first_seq + 1
            expected, position = run.last_hash, run.last_seq + 1
        if isinstance(entry, Record):
            records += 1
            _check_record(entry, policies, problem)
        else:
            markers += 1
            if marker_hash(entry) != entry.entry_hash:
                problem("entry_edited", entry, f"{name}: its fields do not match its hash (edited)")
        if expected is not None and entry.prev_hash != expected:
            problem("broken_link", entry, f"{name}: does not follow the entry before it (that entry, or this "
                                          "one's link, was edited, or an entry was inserted)")
        expected, last_seq = entry.entry_hash, entry.seq

    head_seq, head_hash = store.head()
    if head_seq != last_seq:
        problem("head", None, f"the chain head names position {head_seq}, but the last entry is at {last_seq}: "
                              + ("entries after it were deleted" if head_seq > last_seq else "the head was edited"))
    elif head_hash != (expected or ""):
        problem("head", None, f"the chain head's hash does not match the last entry ({last_seq}): one was edited")
    return Verification(intact=not problems, records=records, markers=markers, purged=purged, head_seq=head_seq,
                        head_hash=head_hash, problems=problems)


def _name(entry: Record | PurgeMarker) -> str:
    if isinstance(entry, Record):
        return f"record {entry.record_id} (position {entry.seq})"
    return f"purge marker {entry.marker_id} (position {entry.seq})"


def _check_record(record: Record, policies: dict[str, bool], problem: Any) -> None:
    name = _name(record)
    if sha256(record.input_json) != record.input_sha256:
        problem("input_edited", record, f"{name}: its input does not match its input_sha256 (edited)")
    if sha256(record.decision_json) != record.decision_sha256:
        problem("decision_edited", record, f"{name}: its decision does not match its decision_sha256 (edited)")
    if record.policy_sha256 is not None:
        if record.policy_sha256 not in policies:
            policies[record.policy_sha256] = (
                record.policy_text is not None and sha256(record.policy_text) == record.policy_sha256
            )
        if not policies[record.policy_sha256]:
            problem("policy_text", record, f"{name}: its policy text is missing or does not match policy_sha256 "
                                           f"{record.policy_sha256} (edited)")
    if record_hash(record, record.seq, record.prev_hash) != record.entry_hash:
        problem("entry_edited", record, f"{name}: its fields do not match its hash (edited)")


# --- replay -----------------------------------------------------------------------------------------------


class Replay(BaseModel):
    """A record evaluated again: ``identical`` (the same decision, byte for byte) or the ``differences`` (path,
    recorded value ``a``, replayed value ``b``); ``notes`` say what else changed since (library, code, policy);
    ``error`` is why it could not be replayed at all."""

    model_config = _VALUE

    record_id: str
    seq: int
    identical: bool
    differences: list[Change] = []
    notes: list[str] = []
    error: str | None = None

    def __str__(self) -> str:
        head = f"record {self.record_id}: " + (
            "could not be replayed: " + (self.error or "") if self.error
            else "identical" if self.identical else f"{len(self.differences)} difference(s)"
        )
        lines = [head, *(f"  {change}" for change in self.differences), *(f"  note: {note}" for note in self.notes)]
        return "\n".join(lines)


def replay(record: Record, *, engine: EngineName | None = None) -> Replay:
    """Evaluate ``record``'s stored input again, under its stored policy, ``as_of`` (from the same source) and
    engine (or ``engine``: the engines decide alike by design, so its name is then left as recorded)."""
    notes = []
    if record.library_version != library_version() or record.code_sha256 != code_sha256():
        notes.append(f"recorded by commissioning-rules {record.library_version} (code {record.code_sha256[:12]}), "
                     f"replayed by {library_version()} (code {code_sha256()[:12]})")

    def failed(message: str) -> Replay:
        return Replay(record_id=record.record_id, seq=record.seq, identical=False, notes=notes, error=message)

    source = PolicySource(record.policy_name, record.policy_version, record.policy_origin, record.policy_text)
    try:
        policy = source.policy()
    except ValueError as error:
        return failed(f"its policy no longer loads: {error}")
    if policy.version != record.policy_version:
        notes.append(f"the policy is version {policy.version} now, {record.policy_version} when recorded "
                     "(its rules or parameters changed since)")
    try:
        case = Case.model_validate(load_json(record.input_json))
    except ValidationError as error:
        first = error.errors(include_url=False)[0]
        return failed(f"its input is no longer a valid case: {field_path(first['loc']) or 'the case'}: {first['msg']}")
    used = engine or record.engine
    if used != record.engine:
        notes.append(f"replayed on the {used} engine, recorded on {record.engine}")
    dated: dict[str, Any] = {
        "argument": {"as_of": record.as_of}, "case": {}, "today": {"today": record.as_of},
    }.get(record.as_of_source, {"as_of": record.as_of})
    try:
        decision = evaluate(case, policy=policy, engine=engine_name(used), **dated)
    except (ParameterError, RuntimeError, ValueError) as error:
        return failed(str(error))
    data = recorded(decision)  # like with like: a record keeps the Decision with its sources
    if used != record.engine:
        data["engine"] = record.engine
    if canonical_json(data) == record.decision_json:
        return Replay(record_id=record.record_id, seq=record.seq, identical=True, notes=notes)
    found = changes(flatten(load_json(record.decision_json), frozenset()), flatten(data, frozenset()))
    return Replay(record_id=record.record_id, seq=record.seq, identical=False, differences=found, notes=notes)
