"""mkdocs hook: generate the rule catalogue and the traceability matrix from the rule data at build time.

Both pages are written from ``commissioning_rules.catalogue`` (nothing is written by hand, so nothing can drift).
The build fails when a normative sentence maps to nothing or to a rule or rule set the default policy lacks, and
when the framework's text (docs/framework/) has a normative passage normative.yaml leaves out: the passages are
found from the text itself (``catalogue.framework_passages``: words of duty and permission, charts, the glossary),
so an edit of the text cannot slip past.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections import Counter
from pathlib import Path
from typing import Mapping

from mkdocs.exceptions import PluginError
from mkdocs.structure.files import File, Files

from commissioning_rules.catalogue import (
    CatalogueEntry,
    Normative,
    TraceRow,
    load_normative,
    matches_prefix,
    rule_catalogue,
    trace,
    traceability_problems,
    unlisted_passages,
    untraced_rules,
)
from commissioning_rules.models import Case, Decision
from commissioning_rules.parameters import Parameter
from commissioning_rules.policy import Policy

CATALOGUE_PAGE = "reference/rule-catalogue.md"
TRACEABILITY_PAGE = "reference/traceability.md"


def _cell(text: str) -> str:
    """Text safe inside a Markdown table cell."""
    return " ".join(text.split()).replace("|", "\\|")


def _ruleset_anchor(name: str) -> str:
    return f"ruleset-{name}"


def _history(parameter: Parameter) -> str:
    """Every dated value of a parameter, oldest first: the same whatever the day the site is built."""
    return "; ".join(f"**{_cell(parameter.show(v.value))}** from {v.effective_from.isoformat()}" for v in parameter.values)


def _parameter_lines(entry: CatalogueEntry, policy: Policy) -> str:
    if not entry.parameters:
        return "none"
    shown = []
    for p in entry.parameters:
        parameter = policy.parameters[p.name]
        placeholder = " (a placeholder the council is expected to set)" if parameter.placeholder else ""
        shown.append(f"[`{p.name}`](#param-{p.name}){placeholder}: {_history(parameter) or 'no value'}")
    return "<br>".join(shown)


_SLOT = re.compile(r"\{([A-Za-z0-9_.]+)\}")


def _slots(text: str) -> str:
    """A rule's ``because`` template with its slots shown as slots: ``{organisation.annual_turnover}`` as a
    *‹annual turnover›* placeholder (the path in its tooltip), ``{param.NAME}`` linked to the parameter."""

    def slot(match: re.Match[str]) -> str:
        path = match.group(1)
        if path.startswith("param."):
            name = path.removeprefix("param.")
            return f'<var class="slot" title="parameter {name}"><a href="#param-{name}">{name.replace("_", " ")}</a></var>'
        return f'<var class="slot" title="{path}">{path.rsplit(".", 1)[-1].replace("_", " ")}</var>'

    return _SLOT.sub(slot, _cell(text))


def catalogue_markdown(policy: Policy) -> str:
    entries = rule_catalogue(policy, dt.date.today())  # the date picks values, which this page does not show per rule
    lines = [
        "# Rule catalogue",
        "",
        f"Generated from the rule data of *{policy.name}* (policy version `{policy.version}`). {len(entries)} "
        f"rules in {len(policy.rulesets)} rule sets.",
        "",
        "Each rule quotes the framework sentence it encodes. *When* is the rule's condition in words: a dotted "
        "path names a fact of the case (see [the JSON contract](../json-contract.md)), *parameter NAME* a named, "
        "effective-dated parameter; each rule lists the values its parameters take and the date each takes "
        "effect (the full history, with sources, is [at the end](#parameters)). In *Because*, a "
        "<var class=\"slot\">slot</var> is filled in with the case's own fact or the parameter's value in force "
        "when a Decision is made. A rule set runs only when the case has its inputs; its *assemble* step turns "
        "the rules that fired into the Decision (see the [API reference](api.md)).",
        "",
    ]
    for ruleset in policy.rulesets:
        lines += [
            f"## {ruleset.section} {ruleset.title} {{ #{_ruleset_anchor(ruleset.name)} }}",
            "",
            f"Rule set `{ruleset.name}`; runs when the case has: "
            + (", ".join(f"`{part}`" for part in ruleset.inputs) or "anything")
            + f"; {len(ruleset.rules)} rules.",
            "",
        ]
        for gate in ruleset.requires:  # the stage dependencies (engine.rule.StageGate), applied for every engine
            allowed = " or ".join(f"`{value}`" for value in gate.allows)
            lines += [
                f"**Follows {gate.after}** (`{gate.id}`, {gate.section}: “{_cell(gate.source)}”): this rule set gives "
                f"a decision only where `{gate.after}.{gate.attribute}` is {allowed} (or `{gate.after}` was not "
                "decided); otherwise its fields are `null`, with one finding"
                + (f" and the advisory `{gate.advisory}`" if gate.advisory else "") + ".",
                "",
            ]
        for entry in (e for e in entries if e.ruleset == ruleset.name):
            subject = "the case" if entry.subject == "case" else f"each `{entry.subject}` of the case"
            lines += [
                f"### `{entry.id}` {{ #{entry.id} }}",
                "",
                *_definition("Section", entry.section),
                *_definition("Framework", f"“{_cell(entry.source)}”"),
                *_definition("Looks at", subject),
                *_definition("When", _cell(entry.condition)),
                *_definition("Concludes", f"{entry.topic}: **{entry.outcome}**"),
                *_definition("Because", _slots(entry.because)),
                *_definition("Parameters", _parameter_lines(entry, policy)),
            ]
    lines += ["## Parameters", "", "Every dated value of every parameter of the policy, with its source.", ""]
    for name, parameter in sorted(policy.parameters.items()):
        placeholder = " It is a placeholder the council is expected to set." if parameter.placeholder else ""
        lines += [
            f"### `{name}` {{ #param-{name} }}",
            "",
            f"{_cell(parameter.description)} Unit: {parameter.unit}; section {parameter.section}.{placeholder}",
            "",
            "| in force from | value | source |",
            "|---|---|---|",
            *(
                f"| {v.effective_from.isoformat()} | {_cell(parameter.show(v.value))} | {_cell(v.source)} |"
                for v in parameter.values
            ),
            "",
        ]
    return "\n".join(lines)


def _definition(term: str, text: str) -> list[str]:
    """One term of a definition list (the ``def_list`` extension): a rule's facts, without a table's header row."""
    return [term, f":   {text}", ""]


def traceability_markdown(policy: Policy, normative: Normative) -> str:
    rows = trace(policy, normative)
    kinds = Counter(row.sentence.kind for row in rows)
    executable = [row for row in rows if row.sentence.rules or row.sentence.rulesets]
    untraced = untraced_rules(policy, normative)
    lines = [
        "# Traceability matrix",
        "",
        "Every normative sentence of the [framework](../framework/commissioning-framework-2014.txt): each "
        "sentence that says *must*, *will*, *should* or *required*, and each row of the charts 3.4.1, 3.4.2 and "
        "3.5.1, quoted verbatim, with the rules that encode it or the reason it cannot be executed. A few "
        "sentences without those words are listed too because a rule set encodes them (*related*). Generated "
        "from `src/commissioning_rules/normative.yaml` and the rule data when this site was built; the build "
        "fails when a sentence maps to nothing or to a rule that does not exist.",
        "",
        f"{len(rows)} passages: {kinds['sentence']} sentences, {kinds['chart_row']} chart rows, "
        f"{kinds['related']} related. {len(executable)} are encoded by rules, "
        f"{len(rows) - len(executable)} are not executable (with the reason).",
        "",
    ]
    titles = _section_titles()
    sections = list(dict.fromkeys(row.sentence.section for row in rows))
    lines += ["By section:", ""]
    lines += [f"- [{_section_heading(section, titles)}](#{_section_anchor(section)})" for section in sections]
    lines.append("")
    for section in sections:
        lines += [f"## {_section_heading(section, titles)} {{ #{_section_anchor(section)} }}", "",
                  "| Passage | Encoded by |", "|---|---|"]
        lines += [_trace_row(row, policy) for row in rows if row.sentence.section == section]
        lines.append("")
    lines += ["## Rules no normative sentence maps to", ""]
    lines += [f"- [`{r}`](rule-catalogue.md#{r})" for r in untraced] or ["None: every rule is traced to the framework."]
    lines.append("")
    return "\n".join(lines)


_FRAMEWORK_HEADING = re.compile(r"^(\d+(?:\.\d+)*)\.?\s+(?:CHART:\s*)?([A-Z].*)$")


def _section_titles() -> dict[str, str]:
    """Each section number's title, from the framework's own text (docs/framework/)."""
    text = (Path(__file__).parent / "framework" / "commissioning-framework-2014.txt").read_text("utf-8")
    titles: dict[str, str] = {}
    for line in text.splitlines():
        match = _FRAMEWORK_HEADING.match(line.strip())
        if match:
            titles.setdefault(match.group(1), match.group(2).strip())
    return titles


def _section_heading(section: str, titles: Mapping[str, str]) -> str:
    return f"{section} {titles[section]}" if section in titles else section


def _section_anchor(section: str) -> str:
    return "section-" + section.lower().replace(".", "-")


def _trace_row(row: TraceRow, policy: Policy) -> str:
    s = row.sentence
    quoted = " … ".join(_cell(fragment) for fragment in s.text)
    label = {"chart_row": " *(chart row)*", "related": " *(related)*"}.get(s.kind, "")
    if s.not_executable:
        encoded = f"*Not executable:* {_cell(s.not_executable)}"
    else:
        parts = []
        for name in s.rulesets:
            if name in row.dangling:
                parts.append(f"rule set `{name}` (not in this build)")
            else:
                count = len(next(rs for rs in policy.rulesets if rs.name == name).rules)
                parts.append(f"rule set [`{name}`](rule-catalogue.md#{_ruleset_anchor(name)}) ({count} rules)")
        for prefix in s.rules:
            matched = [rule_id for rule_id in row.rules if matches_prefix(prefix, rule_id)]
            if prefix in row.dangling:
                parts.append(f"`{prefix}.*` (no such rule)")
            else:
                parts.append(
                    f"[`{prefix}.*`](rule-catalogue.md#{matched[0]}) ({len(matched)} rules)"
                )
        if row.quoting:
            parts.append(
                "quoted by: " + ", ".join(f"[`{r}`](rule-catalogue.md#{r})" for r in row.quoting)
            )
        encoded = "<br>".join(parts)
    return f"| “{quoted}”{label} <br><small>`{s.id}`</small> | {encoded} |"


def _schema_block(title: str, model) -> str:
    schema = model.model_json_schema(mode="serialization" if model is Decision else "validation")
    body = "\n".join("    " + line for line in json.dumps(schema, indent=2, ensure_ascii=False).splitlines())
    return f'??? note "{title}"\n\n    ```json\n{body}\n    ```\n'


SCHEMAS = {
    "<!-- generated: json-schema case -->": ("JSON Schema of the case (input)", Case),
    "<!-- generated: json-schema decision -->": ("JSON Schema of the Decision (output)", Decision),
}


def on_page_markdown(markdown: str, page, config, files) -> str:
    """Replace each ``<!-- generated: json-schema … -->`` marker with the schema generated from the model."""
    for marker, (title, model) in SCHEMAS.items():
        if marker in markdown:
            markdown = markdown.replace(marker, _schema_block(title, model))
    return markdown


#: A Sphinx role left in a rendered docstring (``:class:`~pkg.mod.Name```), which mkdocstrings shows as text.
SPHINX_ROLE = re.compile(r":(?:class|func|meth|mod|attr|data|obj):<code>(~?)([\w.]+)</code>")


def on_page_content(html: str, page, config, files) -> str:
    """Show a docstring's Sphinx roles as code: ``~a.b.Name`` as ``Name``, ``a.b.name`` as written."""
    return SPHINX_ROLE.sub(lambda m: f"<code>{m.group(2).rsplit('.', 1)[-1] if m.group(1) else m.group(2)}</code>", html)


def on_files(files: Files, config) -> Files:
    policy = Policy.default()
    normative = load_normative()
    problems = traceability_problems(policy, normative)
    framework = Path(__file__).resolve().parent / "framework" / "commissioning-framework-2014.txt"
    problems += [
        f"{p.section}: normative passage ({p.normative}) not in normative.yaml: {p.text!r}"
        for p in unlisted_passages(framework.read_text("utf-8"), normative)
    ]
    if problems:
        raise PluginError(
            "traceability: normative sentences not encoded by the policy (src/commissioning_rules/normative.yaml):\n  "
            + "\n  ".join(problems)
        )
    files.append(File.generated(config, CATALOGUE_PAGE, content=catalogue_markdown(policy)))
    files.append(File.generated(config, TRACEABILITY_PAGE, content=traceability_markdown(policy, normative)))
    return files
