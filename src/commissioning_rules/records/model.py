"""What a decision record is, as values: canonical JSON, the hashes, a record, a purge marker, a draft.

No database here: the store (``store.py``) persists these values, and verification (``audit.py``) recomputes
the same hashes from what it reads back, so both go through the functions below and nothing else.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import json
import uuid
from dataclasses import dataclass
from importlib import resources
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from commissioning_rules.models.case import Case
from commissioning_rules.models.decision import Decision, sources_included
from commissioning_rules.policy import Policy

#: The ``prev_hash`` of the first entry of a chain.
GENESIS = "0" * 64
#: Where a built-in policy came from (``Policy.origin`` of the default policy).
BUILT_IN = Policy.default().origin


class RecordsError(Exception):
    """A decision-records operation failed; the message says what and why, for a person to read."""


def recorded(decision: Decision) -> dict[str, Any]:
    """What a record keeps of ``decision``: its JSON data with the sources (the sentence each finding quotes,
    where each parameter's value comes from), so a record reads on its own, whatever a rule catalogue later says.
    A replay compares this, and nothing less, with what the record holds."""
    with sources_included():
        return decision.model_dump(mode="json")


def canonical_json(value: Any) -> str:
    """``value`` as canonical JSON: keys sorted, no whitespace, UTF-8 text as itself, no floats.

    Floats are refused: their text differs between languages and libraries, so a hash over them would not be
    reproducible. Money and every other number in the models is a ``Decimal``, written as a string.
    """
    _refuse_floats(value)
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def _refuse_floats(value: Any) -> None:
    if isinstance(value, float):
        raise RecordsError(f"a float ({value!r}) cannot be recorded: numbers must be exact (Decimal, int)")
    if isinstance(value, dict):
        for item in value.values():
            _refuse_floats(item)
    elif isinstance(value, (list, tuple)):
        for item in value:
            _refuse_floats(item)


def sha256(text: str) -> str:
    """The SHA-256 of ``text`` encoded as UTF-8, in hex."""
    try:
        return hashlib.sha256(text.encode("utf-8")).hexdigest()
    except UnicodeEncodeError:
        raise RecordsError("the text holds a character that is not valid Unicode (a lone surrogate)") from None


def utc_text(moment: dt.datetime) -> str:
    """A moment as fixed-width UTC text, ``2026-04-01T09:30:00.000000Z``: the stored and hashed form.

    Fixed width and one time zone, so text order is time order in every database; a naive datetime is refused.
    """
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise RecordsError(f"a time without a time zone ({moment.isoformat()}) cannot be recorded")
    return moment.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse_utc(text: str) -> dt.datetime:
    return dt.datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=dt.timezone.utc)


def now_utc() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


@functools.cache
def code_sha256() -> str:
    """A hash of this library's installed source files (``*.py`` and ``*.yaml``, by path): the code that
    assembled a decision, which ``Policy.version`` (rule data and parameters only) does not cover."""
    digest = hashlib.sha256()
    root = resources.files("commissioning_rules")
    files: list[tuple[str, Any]] = []
    stack = [(root, "")]
    while stack:
        folder, prefix = stack.pop()
        for item in folder.iterdir():
            if item.is_dir():
                if item.name != "__pycache__":
                    stack.append((item, f"{prefix}{item.name}/"))
            elif item.name.endswith((".py", ".yaml")):
                files.append((prefix + item.name, item))
    for name, item in sorted(files, key=lambda entry: entry[0]):
        data = item.read_bytes()
        digest.update(f"{name}\0{len(data)}\0".encode())
        digest.update(data)
    return digest.hexdigest()


def library_version() -> str:
    from commissioning_rules import __version__

    return __version__


# --- the policy a decision was made under ---------------------------------------------------------------


@dataclass(frozen=True)
class PolicySource:
    """The policy a run evaluates under, as recorded: name, version, origin and, for a council's policy file,
    its full text (``None`` for the built-in Norwich framework)."""

    name: str
    version: str
    origin: str
    text: str | None = None

    @property
    def text_sha256(self) -> str | None:
        return sha256(self.text) if self.text is not None else None

    @classmethod
    def of(cls, policy: Policy | None = None, text: str | None = None) -> PolicySource:
        """The source of ``policy`` (default: the Norwich framework). A policy loaded from a file is recorded
        with its text: ``text`` when given, else the file at ``policy.origin`` read now; either way the text
        must load as the same policy version, or the record could not be replayed."""
        policy = policy or Policy.default()
        if text is None and policy.origin != BUILT_IN:
            try:
                with open(policy.origin, encoding="utf-8") as file:
                    text = file.read()
            except OSError as error:
                raise RecordsError(
                    f"the policy file {policy.origin} cannot be read to record it with the decision: {error}"
                ) from None
        if text is None and policy.version != Policy.default().version:
            raise RecordsError(
                f"the policy {policy.name!r} was built in Python, not loaded from a policy file: it has no text to "
                "record, so its decisions could not be replayed (record under a policy file instead)"
            )
        if text is not None:
            try:
                version = Policy.from_yaml(text, origin=policy.origin).version
            except ValueError as error:
                raise RecordsError(f"the policy text does not load: {error}") from None
            if version != policy.version:
                raise RecordsError(
                    f"the policy file {policy.origin} has changed since it was loaded (version {policy.version}, "
                    f"the file now {version}): load it again before recording"
                )
        return cls(policy.name, policy.version, policy.origin, text)

    def policy(self) -> Policy:
        """The policy again: the built-in one, or this text loaded over it."""
        if self.text is None:
            return Policy.default()
        return Policy.from_yaml(self.text, origin=self.origin)


# --- records and purge markers ----------------------------------------------------------------------------

_VALUE = ConfigDict(extra="forbid", frozen=True)


class Draft(BaseModel):
    """A record before it joins the chain: everything but its position (``seq``) and its two chain hashes."""

    model_config = _VALUE

    record_id: str
    reference: str | None
    supersedes: str | None
    evaluated_at: dt.datetime
    as_of: dt.date
    as_of_source: str
    policy_name: str
    policy_version: str
    policy_origin: str
    policy_sha256: str | None
    policy_text: str | None
    library_version: str
    code_sha256: str
    engine: str
    input_json: str
    input_sha256: str
    decision_json: str
    decision_sha256: str

    @classmethod
    def of(
        cls,
        case: Case,
        decision: Decision | dict[str, Any],
        source: PolicySource,
        *,
        supersedes: str | None = None,
        evaluated_at: dt.datetime | None = None,
    ) -> Draft:
        """The draft of the record of ``decision`` on ``case`` under ``source``: a Decision, kept with its sources
        (:func:`recorded`), or JSON data already in that form; ``supersedes`` is the id of the record it corrects."""
        data = recorded(decision) if isinstance(decision, Decision) else decision
        if data["policy"]["version"] != source.version:
            raise RecordsError(
                f"the decision was made under policy version {data['policy']['version']}, not the policy being "
                f"recorded ({source.version})"
            )
        input_json = canonical_json(case.model_dump(mode="json"))
        decision_json = canonical_json(data)
        return cls(
            record_id=str(uuid.uuid4()),
            reference=case.reference,
            supersedes=parse_record_id(supersedes) if supersedes is not None else None,
            evaluated_at=evaluated_at or now_utc(),
            as_of=dt.date.fromisoformat(data["as_of"]),
            as_of_source=data["as_of_source"],
            policy_name=source.name,
            policy_version=source.version,
            policy_origin=source.origin,
            policy_sha256=source.text_sha256,
            policy_text=source.text,
            library_version=library_version(),
            code_sha256=code_sha256(),
            engine=data["engine"],
            input_json=input_json,
            input_sha256=sha256(input_json),
            decision_json=decision_json,
            decision_sha256=sha256(decision_json),
        )


def parse_record_id(value: str) -> str:
    """A record id in its one written form (lower-case UUID with hyphens), or a clear error."""
    try:
        return str(uuid.UUID(str(value)))
    except ValueError:
        raise RecordsError(f"{value!r} is not a record id (a UUID such as 3f2b…-…)") from None


class Record(Draft):
    """One stored decision record: its draft, its position in the chain and the chain hashes.

    ``entry_hash`` is the SHA-256 of the canonical JSON of every other field (the input, the decision and the
    policy text through their own SHA-256), ``prev_hash`` the ``entry_hash`` of the entry before it.
    """

    kind: Literal["record"] = "record"
    seq: int
    prev_hash: str
    entry_hash: str

    @property
    def input(self) -> Any:
        return json.loads(self.input_json)

    @property
    def decision(self) -> Any:
        return json.loads(self.decision_json)

    def summary(self) -> dict[str, Any]:
        """The record without the input, decision and policy texts (for lists)."""
        return self.model_dump(mode="json", exclude={"input_json", "decision_json", "policy_text"})


def record_hash(record: Draft, seq: int, prev_hash: str) -> str:
    """The ``entry_hash`` of ``record`` at position ``seq`` after ``prev_hash``."""
    fields = record.model_dump(mode="json", exclude={"input_json", "decision_json", "policy_text", "entry_hash",
                                                     "prev_hash", "seq", "kind"})
    fields["evaluated_at"] = utc_text(record.evaluated_at)
    return sha256(canonical_json({"kind": "record", "seq": seq, "prev_hash": prev_hash, **fields}))


class PurgedRun(BaseModel):
    """One contiguous run of chain positions a purge removed: enough to walk the chain across the gap."""

    model_config = _VALUE

    first_seq: int
    last_seq: int
    #: The ``prev_hash`` of the first entry removed (the hash of the entry before the run).
    prev_hash: str
    #: The ``entry_hash`` of the last entry removed (the ``prev_hash`` of the entry after the run).
    last_hash: str
    #: SHA-256 over the ``entry_hash`` of every entry removed, in order: the hash of what went.
    digest: str


class PurgeMarker(BaseModel):
    """A purge, as an entry of the chain: when, the cut-off, why, and each run of records it removed."""

    model_config = _VALUE

    kind: Literal["purge"] = "purge"
    seq: int
    marker_id: str
    purged_at: dt.datetime
    before: dt.datetime
    reason: str
    count: int
    runs: tuple[PurgedRun, ...]
    prev_hash: str
    entry_hash: str


def marker_hash(marker: PurgeMarker) -> str:
    fields = marker.model_dump(mode="json", exclude={"entry_hash"})
    fields["purged_at"] = utc_text(marker.purged_at)
    fields["before"] = utc_text(marker.before)
    return sha256(canonical_json(fields))


def runs_digest(hashes: list[str]) -> str:
    return hashlib.sha256("".join(hashes).encode("ascii")).hexdigest()


Entry = Record | PurgeMarker
