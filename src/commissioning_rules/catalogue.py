"""The rule catalogue and the traceability matrix, built from the rule data so they cannot drift from it.

``catalogue(policy)`` is the catalogue as JSON-ready data (``commissioning-rules rules --format json`` and the
HTTP service's ``GET /v1/rules``). ``rule_catalogue(policy, as_of)`` lists every rule with its section, the
framework sentence it quotes, its condition in words and the parameters it reads (value in force at ``as_of``,
source, effective date).

``normative.yaml`` beside this module lists every normative sentence of the framework (its "must", "will",
"should" and "required" sentences and the rows of charts 3.4.1, 3.4.2 and 3.5.1), each mapped to the rules or
rule sets that encode it, or to the reason it is not executable. ``traceability_problems`` returns every sentence
mapped to nothing and every mapping to a rule or rule set the policy lacks; ``unlisted_passages`` reads the
framework's text itself (:func:`framework_passages`: words of duty and permission, charts, glossary, lists led in
by a normative sentence) and returns every normative passage ``normative.yaml`` leaves out. The docs build fails
on any of either, so an edit of the text cannot slip past.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from importlib import resources
from typing import Any

import yaml

from commissioning_rules.engine.rule import AllOf, Compare, Condition, Rule, RuleSet, StageGate, describe
from commissioning_rules.parameters import ParameterError
from commissioning_rules.policy import Policy

NORMATIVE_FILE = "normative.yaml"
KINDS = ("sentence", "chart_row", "related", "definition")


# --- the rule catalogue --------------------------------------------------------------------------------------


def _shown(value: Any) -> Any:
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, (bool, int, str)):
        return value
    return str(value)  # Decimal and anything else: exact text, never a float


def catalogue(policy: Policy) -> dict[str, Any]:
    """Every rule of ``policy`` by rule set: id, section, the quoted source, the condition in words, the
    conclusion, the ``because`` template and the parameters it reads (with their dated values); and every stage
    gate (a later stage following only from an earlier stage's decision), which a Decision cites by id as it
    cites a rule. Every finding of a Decision names one of these ids, so the sentence it quotes is found here."""
    cited = sorted({name for rule in policy.rules for name in rule.cites})
    gated: dict[str, list[str]] = {}
    gates: dict[str, StageGate] = {}
    for ruleset in policy.rulesets:
        for gate in ruleset.requires:
            gates.setdefault(gate.id, gate)
            gated.setdefault(gate.id, []).append(ruleset.name)
    return {
        "policy": {"name": policy.name, "version": policy.version},
        "rulesets": [
            {
                "name": ruleset.name,
                "section": ruleset.section,
                "title": ruleset.title,
                "inputs": list(ruleset.inputs),
                "rules": [
                    {
                        "id": rule.id,
                        "section": rule.section,
                        "source": rule.source,
                        "subject": rule.subject,
                        "condition": describe(rule.when),
                        "conclusion": {"topic": rule.then.topic, "outcome": rule.then.outcome},
                        "because": rule.because,
                        "parameters": sorted(rule.cites),
                    }
                    for rule in ruleset.rules
                ],
            }
            for ruleset in policy.rulesets
        ],
        "parameters": {
            name: {
                "description": policy.parameters[name].description,
                "unit": policy.parameters[name].unit,
                "section": policy.parameters[name].section,
                "placeholder": policy.parameters[name].placeholder,
                "values": [
                    {"effective_from": v.effective_from.isoformat(), "value": _shown(v.value), "source": v.source}
                    for v in policy.parameters[name].values
                ],
            }
            for name in cited
            if name in policy.parameters
        },
        "gates": [
            {
                "id": gate.id,
                "section": gate.section,
                "source": gate.source,
                "after": gate.after,
                "attribute": gate.attribute,
                "allows": [_shown(value) for value in gate.allows],
                "because": gate.because,
                "advisory": gate.advisory,
                "rulesets": gated[gate.id],
            }
            for gate in gates.values()
        ],
    }


@dataclass(frozen=True)
class ParameterInForce:
    """A parameter a rule reads, with the value in force at the catalogue's date (``value`` is None if none)."""

    name: str
    description: str
    unit: str
    value: str | None
    effective_from: dt.date | None
    source: str | None
    placeholder: bool


@dataclass(frozen=True)
class CatalogueEntry:
    """One rule as a reader sees it."""

    ruleset: str
    id: str
    section: str
    source: str
    subject: str
    condition: str
    topic: str
    outcome: str
    because: str
    parameters: tuple[ParameterInForce, ...]


def _own_condition(rule: Rule, ruleset: RuleSet) -> Condition:
    """The rule's condition without the ``has_<input>`` presence tests its rule set adds to every rule."""
    presence = {f"has_{part}" for part in ruleset.inputs}
    when = rule.when
    if isinstance(when, AllOf):
        rest = [
            c for c in when.conditions
            if not (isinstance(c, Compare) and c.path in presence and c.operator == "eq" and c.operand is True)
        ]
        return rest[0] if len(rest) == 1 else AllOf(tuple(rest))
    return when


def parameter_in_force(policy: Policy, name: str, as_of: dt.date) -> ParameterInForce:
    parameter = policy.parameters[name]
    try:
        value = parameter.at(as_of)
    except ParameterError:
        value = None
    return ParameterInForce(
        name=name,
        description=parameter.description,
        unit=parameter.unit,
        value=parameter.show(value.value) if value else None,
        effective_from=value.effective_from if value else None,
        source=value.source if value else None,
        placeholder=parameter.placeholder,
    )


def rule_catalogue(policy: Policy | None = None, as_of: dt.date | None = None) -> list[CatalogueEntry]:
    """Every rule of ``policy`` (default: the Norwich framework) in rule-set order, parameters shown at ``as_of``.

    A parameter the policy does not define is left out (the policy's static checks report it).
    """
    policy = policy or Policy.default()
    as_of = as_of or dt.date.today()
    return [
        CatalogueEntry(
            ruleset=ruleset.name,
            id=rule.id,
            section=rule.section,
            source=rule.source,
            subject=rule.subject,
            condition=describe(_own_condition(rule, ruleset)),
            topic=rule.then.topic,
            outcome=rule.then.outcome,
            because=rule.because,
            parameters=tuple(
                parameter_in_force(policy, name, as_of) for name in sorted(rule.cites) if name in policy.parameters
            ),
        )
        for ruleset in policy.rulesets
        for rule in ruleset.rules
    ]


# --- the normative sentences and the traceability matrix ----------------------------------------------------


@dataclass(frozen=True)
class NormativeSentence:
    """A normative passage of the framework, quoted verbatim, and what encodes it (or why nothing can)."""

    id: str
    section: str
    kind: str
    text: tuple[str, ...]
    rules: tuple[str, ...] = ()
    rulesets: tuple[str, ...] = ()
    not_executable: str | None = None

    @property
    def quoted(self) -> str:
        return " ".join(self.text)


@dataclass(frozen=True)
class Normative:
    sentences: tuple[NormativeSentence, ...]


class NormativeError(ValueError):
    """normative.yaml is malformed."""


def _strings(value: Any, where: str) -> tuple[str, ...]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not value or not all(isinstance(v, str) and v.strip() for v in value):
        raise NormativeError(f"{where}: expected text or a list of non-empty texts, got {value!r}")
    return tuple(value)


def _names(value: Any, where: str) -> tuple[str, ...]:
    """An optional list of names (rule-id prefixes, rule set names): absent or empty is ``()``."""
    return _strings(value, where) if value else ()


def load_normative(text: str | None = None) -> Normative:
    """Parse ``normative.yaml`` (the packaged one unless ``text`` is given)."""
    if text is None:
        text = resources.files("commissioning_rules").joinpath(NORMATIVE_FILE).read_text("utf-8")
    data = yaml.safe_load(text)
    if not isinstance(data, dict) or set(data) != {"sentences"} or not isinstance(data["sentences"], list) or not data["sentences"]:
        raise NormativeError(f"{NORMATIVE_FILE}: expected one key, sentences, holding a non-empty list")
    allowed = {"id", "section", "kind", "text", "rules", "rulesets", "not_executable"}
    sentences = []
    for i, entry in enumerate(data["sentences"]):
        where = f"{NORMATIVE_FILE}: sentences[{i}]"
        if not isinstance(entry, dict) or set(entry) - allowed or not {"id", "section", "kind", "text"} <= set(entry):
            raise NormativeError(f"{where}: expected id, section, kind, text and a mapping, got {entry!r}")
        where = f"{NORMATIVE_FILE}: {entry['id']}"
        if entry["kind"] not in KINDS:
            raise NormativeError(f"{where}.kind: expected one of {KINDS}, got {entry['kind']!r}")
        reason = entry.get("not_executable")
        if reason is not None and (not isinstance(reason, str) or not reason.strip()):
            raise NormativeError(f"{where}.not_executable: expected the reason, in words")
        sentences.append(
            NormativeSentence(
                id=str(entry["id"]),
                section=str(entry["section"]),
                kind=entry["kind"],
                text=_strings(entry["text"], f"{where}.text"),
                rules=_names(entry.get("rules"), f"{where}.rules"),
                rulesets=_names(entry.get("rulesets"), f"{where}.rulesets"),
                not_executable=reason,
            )
        )
    ids = [s.id for s in sentences]
    repeated = sorted({i for i in ids if ids.count(i) > 1})
    if repeated:
        raise NormativeError(f"{NORMATIVE_FILE}: sentence ids must be unique; repeated: {repeated}")
    return Normative(tuple(sentences))


@dataclass(frozen=True)
class TraceRow:
    """One normative sentence and the rules of the policy that encode it."""

    sentence: NormativeSentence
    #: Ids of the rules the sentence maps to (through a rule-id prefix or a whole rule set).
    rules: tuple[str, ...]
    #: Of those, the rules whose quoted source contains the sentence: the closest encoding.
    quoting: tuple[str, ...]
    #: Rule-id prefixes and rule set names that match nothing in the policy.
    dangling: tuple[str, ...]


def matches_prefix(prefix: str, rule_id: str) -> bool:
    """``management`` matches ``management.constitution.met``, not ``management_x.met``."""
    return rule_id == prefix or rule_id.startswith(prefix + ".")


def _normalised(text: str) -> str:
    return " ".join(text.split())


def trace(policy: Policy | None = None, normative: Normative | None = None) -> list[TraceRow]:
    """The traceability matrix: each normative sentence with the rules that encode it."""
    policy = policy or Policy.default()
    normative = normative or load_normative()
    by_ruleset = {rs.name: rs.rules for rs in policy.rulesets}
    rows = []
    for sentence in normative.sentences:
        found: dict[str, Rule] = {}
        dangling = []
        for prefix in sentence.rules:
            matched = [r for r in policy.rules if matches_prefix(prefix, r.id)]
            found.update((r.id, r) for r in matched)
            if not matched:
                dangling.append(prefix)
        for name in sentence.rulesets:
            if name in by_ruleset:
                found.update((r.id, r) for r in by_ruleset[name])
            else:
                dangling.append(name)
        fragments = [_normalised(f) for f in sentence.text]
        quoting = tuple(
            rule_id for rule_id, rule in found.items()
            if any(f in _normalised(rule.source) or _normalised(rule.source) in f for f in fragments)
        )
        rows.append(TraceRow(sentence, tuple(found), quoting, tuple(dangling)))
    return rows


def traceability_problems(policy: Policy | None = None, normative: Normative | None = None) -> list[str]:
    """Every sentence mapped to nothing, mapped both ways, or mapped to a rule or rule set the policy lacks."""
    normative = normative or load_normative()
    problems = []
    for row in trace(policy, normative):
        sentence = row.sentence
        where = f"{sentence.id} ({sentence.section})"
        encoded = sentence.rules or sentence.rulesets
        if not encoded and not sentence.not_executable:
            problems.append(f"{where}: mapped to nothing (give rules, rulesets or a not_executable reason)")
        if encoded and sentence.not_executable:
            problems.append(f"{where}: mapped to rules and also said not to be executable")
        for target in row.dangling:
            kind = "rule set" if target in sentence.rulesets else "rule-id prefix"
            problems.append(f"{where}: {kind} {target!r} is not in the policy")
    return problems


def untraced_rules(policy: Policy | None = None, normative: Normative | None = None) -> list[str]:
    """Ids of the policy's rules that no normative sentence maps to."""
    policy = policy or Policy.default()
    traced = {rule_id for row in trace(policy, normative) for rule_id in row.rules}
    return [rule.id for rule in policy.rules if rule.id not in traced]


# --- the framework's own text: which passages are normative -------------------------------------------------

#: A word that makes a sentence normative: a duty, a requirement, a permission, an expectation or an aim.
NORMATIVE_WORDS = re.compile(
    r"\b(must|will|should|shall|required|requires?|requirements?|needs? to|may|might|duty|applies|apply|"
    r"expected|encourages?|keen|aspiration|intend|seeks?|committed|necessary)\b",
    re.IGNORECASE,
)
_HEADING = re.compile(r"^(\d+(?:\.\d+)*)\.?\s+[A-Z]")
#: Each chart, and the section the prose after it belongs to.
_CHARTS = {"3.4.1": "3.4", "3.4.2": "3.4", "3.5.1": "3.5"}
_CHART_HEADERS = {"Method", "Route", "Organisation criteria", "Term used"}
_SENTENCE_END = re.compile(r"(?<=[.?!])\s+(?=[A-Z'(])")


@dataclass(frozen=True)
class Passage:
    """One passage of the framework's text: a prose sentence, a list item or a chart or glossary cell."""

    section: str
    kind: str  # sentence, list_item, chart_cell, definition
    text: str
    #: Why it is normative (the word, "chart", "glossary", or the lead-in's); empty when it is not.
    normative: str = ""


def framework_passages(text: str) -> list[Passage]:
    """Every passage of the framework's text, with its section, and whether (and why) it is normative.

    Read from the text itself, never from ``normative.yaml``: a prose sentence is normative when it has a word of
    duty, requirement, permission, expectation or aim (:data:`NORMATIVE_WORDS`); a chart cell always (the charts
    are the rules); a glossary definition always (the rules read its terms); a list item when the sentence that
    leads into it (ending ":") is normative, or the item itself is. Headings and the contents table are skipped;
    prose after a chart belongs to the chart's parent section; a line starting in lower case continues the
    previous one (page breaks).
    """
    units: list[tuple[str, str, str]] = []  # (section, kind, text) before sentence splitting
    section: str | None = None
    chart_seen = False
    for line in text.splitlines():
        stripped = line.strip()
        if not stripped:
            continue
        if stripped in ("Foreword", "Glossary"):
            section, chart_seen = stripped, False
            continue
        heading = _HEADING.match(stripped)
        if heading:
            section, chart_seen = heading.group(1), False
            continue
        if section is None:
            continue
        if stripped.startswith("|"):
            cells = [c.strip() for c in stripped.strip("|").split("|")]
            if not "".join(cells).strip("- ") or cells[0] in _CHART_HEADERS:
                continue
            if section in _CHARTS:
                chart_seen = True
                units += [(section, "chart_cell", c.lstrip("• ").strip()) for c in cells[1:] if c.strip()]
            else:
                units += [(section, "definition", c) for c in cells[1:] if c]
            continue
        if section in _CHARTS and chart_seen:
            section = _CHARTS[section]
        kind = "list_item" if stripped.startswith(("- ", "• ", "\uf0b7")) else "sentence"
        if line[0].islower() and units and units[-1][0] == section:
            units[-1] = (section, units[-1][1], units[-1][2] + " " + stripped)
        else:
            units.append((section, kind, stripped.lstrip("-•\uf0b7 ").strip()))

    passages: list[Passage] = []
    lead_in = ""
    for unit_section, kind, unit in units:
        pieces = [unit] if kind == "chart_cell" else _SENTENCE_END.split(" ".join(unit.split()))
        for piece in pieces:
            word = NORMATIVE_WORDS.search(piece)
            quoted = piece.startswith(("'", "("))  # a quotation or a citation inside a lead-in's list
            if piece.startswith("(Source"):
                continue  # a citation of where a quotation comes from, not a sentence of the framework
            if kind == "chart_cell":
                why = "chart"
            elif kind == "definition":
                why = "glossary"
            elif word:
                why = word.group(0).lower()
            elif (kind == "list_item" or quoted) and lead_in:
                why = f"lead-in: {lead_in}"
            else:
                why = ""
            passages.append(Passage(unit_section, "sentence" if kind == "list_item" else kind, piece, why))
            if kind == "sentence" and not quoted:
                lead_in = why if piece.endswith(":") and why else ""
    return passages


def unlisted_passages(text: str, normative: Normative | None = None) -> list[Passage]:
    """The normative passages of ``text`` that no entry of ``normative.yaml`` quotes in their section."""
    normative = normative or load_normative()
    quoted: dict[str, list[str]] = {}
    for sentence in normative.sentences:
        quoted.setdefault(sentence.section, []).extend(_normalised(f) for f in sentence.text)
    return [
        p for p in framework_passages(text)
        if p.normative and not any(p.text in fragment for fragment in quoted.get(p.section, []))
    ]
