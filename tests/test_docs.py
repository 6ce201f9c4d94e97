"""The documentation site: `mkdocs build --strict`, the traceability data behind it, and the pages' examples.

The normative sentences (``normative.yaml``) are checked against the framework's own text, read by
``catalogue.framework_passages`` (which never looks at normative.yaml): every normative passage must be listed,
quoted verbatim in its section, and mapped to rules that exist or to a reason it is not executable.
"""

from __future__ import annotations

import datetime as dt
import importlib.util
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from commissioning_rules import catalogue
from commissioning_rules.policy import Policy

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
FRAMEWORK = DOCS / "framework" / "commissioning-framework-2014.txt"

KEYWORD = re.compile(r"\b(must|will|should|required)\b", re.IGNORECASE)


def normalised(text: str) -> str:
    return " ".join(text.split())


# --- the framework's own text, read independently of normative.yaml ------------------------------------------


@pytest.fixture(scope="module")
def passages() -> list[tuple[str, str, str]]:
    """``(section, kind, text)`` for each passage, read from the framework's text by the library's reader (which
    never looks at normative.yaml): ``chart_cell`` for a chart cell, ``sentence`` for prose, list items and the
    glossary."""
    return [
        (p.section, "chart_cell" if p.kind == "chart_cell" else "sentence", p.text)
        for p in catalogue.framework_passages(FRAMEWORK.read_text("utf-8"))
    ]


@pytest.fixture(scope="module")
def normative() -> catalogue.Normative:
    return catalogue.load_normative()


def test_the_reader_of_the_framework_finds_what_it_should(passages):
    """The independent reader itself: known sentences, cells and sections come out as expected."""
    assert ("3.5.1", "chart_cell", "Compliance with the Data Protection Act (1998) in handling any personal information about individuals.") in passages
    assert ("3.5", "sentence", "Following assessment, cabinet will be formally notified of the funding decisions.") in passages
    assert ("3.4", "sentence", "Stages of the process will include the following, depending on the route chosen:") in passages
    assert ("3.8", "sentence", "Some awards will be time-limited and therefore a reduced, or no notice period will be required.") in passages
    assert ("3.4.1", "chart_cell", "it is inefficient to do so using either of these routes.") in passages
    assert not any("How will it do this" in text for _, _, text in passages)  # a heading, not a sentence
    cells = [p for p in passages if p[1] == "chart_cell"]
    assert {s for s, _, _ in cells} == {"3.4.1", "3.4.2", "3.5.1"}
    assert len([c for c in cells if c[0] == "3.5.1"]) == 9


def test_the_library_finds_normative_passages_from_the_text_and_each_is_listed(normative):
    """What the docs build checks: normative passages found from the text itself (duty and permission words,
    charts, glossary, lists led in by a normative sentence), each quoted by normative.yaml."""
    text = FRAMEWORK.read_text("utf-8")
    found = {(p.section, p.text): p.normative for p in catalogue.framework_passages(text)}
    assert found[("1.3", "The framework applies to all commissioning – whether services provided by the public sector, private sector or voluntary and community sector.")] == "applies"
    assert found[("2.1", "Efficiency: the relationship between the output from goods or services and the resources to produce them – spending well.")].startswith("lead-in")
    assert found[("Glossary", "Working with a range of partners to jointly commission services for shared outcomes.")] == "glossary"
    assert found[("3.5", "These might include assurances on long term sustainability, quality control, or further requirements regarding innovative delivery methods.")] == "might"
    assert not found[("Foreword", "Norwich City Council has traditionally used a range of service provision to meet the needs of its residents.")]
    assert catalogue.unlisted_passages(text, normative) == []
    # a sentence added to the text is caught
    edited = text.replace("3.8 Decommissioning\n", "3.8 Decommissioning\n\nProviders must return unspent funds.\n")
    assert [p.text for p in catalogue.unlisted_passages(edited, normative)] == ["Providers must return unspent funds."]


def test_every_normative_sentence_of_the_framework_is_listed(passages, normative):
    fragments_by_section: dict[str, list[str]] = {}
    for sentence in normative.sentences:
        fragments_by_section.setdefault(sentence.section, []).extend(normalised(f) for f in sentence.text)
    missing = [
        (section, text)
        for section, kind, text in passages
        if (kind == "chart_cell" or KEYWORD.search(text))
        and not any(text in fragment for fragment in fragments_by_section.get(section, []))
    ]
    assert missing == []


def test_every_listed_passage_is_quoted_verbatim_in_its_section(passages, normative):
    section_text: dict[str, str] = {}
    for section, _, text in passages:
        section_text[section] = section_text.get(section, "") + " " + text
    misquoted = [
        (s.id, fragment)
        for s in normative.sentences
        for fragment in s.text
        if normalised(fragment) not in section_text.get(s.section, "")
    ]
    assert misquoted == []


def test_chart_rows_and_keyword_sentences_are_labelled_as_such(passages, normative):
    cells = {text for _, kind, text in passages if kind == "chart_cell"}
    for s in normative.sentences:
        is_cell = any(normalised(f) in cells for f in s.text)
        assert (s.kind == "chart_row") == is_cell, s.id
        if s.kind == "related":
            assert not KEYWORD.search(s.quoted), s.id
        if s.kind == "definition":
            assert s.section == "Glossary", s.id


# --- traceability: every sentence maps to rules that exist, or to a reason -----------------------------------


def test_every_normative_sentence_maps_to_rules_that_exist_or_a_reason(normative):
    assert catalogue.traceability_problems(normative=normative) == []


def test_the_gate_is_traced_rule_by_rule(normative):
    rows = {row.sentence.id: row for row in catalogue.trace(normative=normative)}
    assert "financial_systems.published_accounts.not_met" in rows["3.5.1.financial_systems"].rules
    assert rows["3.5.1.financial_systems"].dangling == ()
    assert set(rows["3.5.additional_criteria"].rules) == {"additional_criterion.met", "additional_criterion.not_met"}


def test_every_rule_of_the_default_policy_is_traced_to_a_sentence(normative):
    assert catalogue.untraced_rules(normative=normative) == []


BROKEN = """
sentences:
  - {id: a, section: "3.5", kind: sentence, text: "Mapped to nothing."}
  - {id: b, section: "3.5", kind: sentence, text: "A rule set that does not exist.", rulesets: [no_such_ruleset]}
  - {id: c, section: "3.5", kind: sentence, text: "A rule that does not exist.", rules: [management.no_such_rule]}
  - {id: d, section: "3.4.1", kind: chart_row, text: "Misspelt.", rulesets: [deliveries]}
  - {id: e, section: "3.5", kind: sentence, text: "Both.", rulesets: [organisation_criteria], not_executable: "why"}
  - {id: f, section: "3.5", kind: sentence, text: "Fine.", rules: [management.constitution]}
  - {id: g, section: "3.5", kind: sentence, text: "Also fine.", not_executable: "a duty of the council"}
"""


def test_each_kind_of_untraced_sentence_is_reported():
    broken = catalogue.load_normative(BROKEN)
    strict = catalogue.traceability_problems(normative=broken)
    assert [p.split(" ")[0] for p in strict] == ["a", "b", "c", "d", "e"]
    assert "mapped to nothing" in strict[0]
    assert "rule set 'no_such_ruleset'" in strict[1]
    assert "rule-id prefix 'management.no_such_rule'" in strict[2]


def test_a_rule_id_prefix_matches_whole_id_segments():
    one = catalogue.load_normative(
        'sentences:\n  - {id: x, section: "3.5.1", kind: chart_row, text: "t", rules: [insur]}\n'
    )
    assert catalogue.traceability_problems(normative=one) == ["x (3.5.1): rule-id prefix 'insur' is not in the policy"]


@pytest.mark.parametrize(
    "text",
    [
        "sentences: []\n",
        "sentences:\n  - {id: x, section: '1', kind: prose, text: t, not_executable: r}\n",
        "sentences:\n  - {id: x, section: '1', kind: sentence, text: [], not_executable: r}\n",
        "sentences:\n  - {id: x, section: '1', kind: sentence, text: t, not_executable: ''}\n",
        "sentences:\n  - {id: x, section: '1', kind: sentence, text: t, rule: [a]}\n",
        "sentences:\n"
        "  - {id: x, section: '1', kind: sentence, text: t, not_executable: r}\n"
        "  - {id: x, section: '1', kind: sentence, text: u, not_executable: r}\n",
    ],
)
def test_a_malformed_normative_file_is_rejected(text):
    with pytest.raises(catalogue.NormativeError):
        catalogue.load_normative(text)


# --- the rule catalogue ------------------------------------------------------------------------------------------


def test_the_catalogue_lists_every_rule_with_its_parameters_in_force():
    policy = Policy.default()
    entries = catalogue.rule_catalogue(policy, dt.date(2016, 6, 1))
    assert [e.id for e in entries] == [r.id for r in policy.rules]
    accounts = next(e for e in entries if e.id == "financial_systems.published_accounts.not_met")
    assert accounts.section == "3.5.1" and "above £5,000 must publish" in accounts.source
    assert "organisation.annual_turnover is above parameter accounts_threshold" in accounts.condition
    assert "has_organisation" not in accounts.condition  # the rule set's presence test is shown once, not per rule
    (threshold,) = accounts.parameters
    assert (threshold.name, threshold.value, threshold.effective_from) == ("accounts_threshold", "£5,000.00", dt.date(2014, 1, 1))
    data = next(e for e in entries if e.id == "data_protection.compliance.met").parameters[0]
    assert data.value == "Data Protection Act 1998"  # the law in force at the catalogue's date
    later = catalogue.rule_catalogue(policy, dt.date(2026, 4, 1))
    assert next(e for e in later if e.id == "data_protection.compliance.met").parameters[0].value.startswith("UK GDPR")


def test_a_parameter_without_a_value_at_the_date_is_shown_as_such():
    before = catalogue.parameter_in_force(Policy.default(), "living_wage_hourly_rate", dt.date(2010, 1, 1))
    assert (before.value, before.effective_from, before.source) == (None, None, None)


# --- the docs build ------------------------------------------------------------------------------------------------


def _load_hooks():
    spec = importlib.util.spec_from_file_location("docs_hooks", DOCS / "hooks.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_build_hook_fails_on_an_untraced_sentence(monkeypatch):
    from mkdocs.exceptions import PluginError

    hooks = _load_hooks()
    monkeypatch.setattr(hooks, "load_normative", lambda: catalogue.load_normative(BROKEN))
    with pytest.raises(PluginError, match="a \\(3.5\\): mapped to nothing"):
        hooks.on_files(None, None)


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("site")
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
    result = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--config-file", str(ROOT / "mkdocs.yml"), "--site-dir", str(out)],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return out


def test_mkdocs_build_strict_succeeds_with_every_page(site):
    for page in ("index.html", "guides/screening/index.html", "guides/delivery-and-route/index.html",
                 "guides/monitoring-and-notice/index.html", "guides/adopting/index.html",
                 "guides/property-testing/index.html", "json-contract/index.html", "benchmarks/index.html",
                 "reference/api/index.html", "reference/rule-catalogue/index.html",
                 "reference/traceability/index.html", "framework/commissioning-framework-2014.txt"):
        assert (site / page).is_file(), page


def test_the_built_catalogue_and_matrix_come_from_the_rule_data(site, normative):
    built = (site / "reference/rule-catalogue/index.html").read_text("utf-8")
    for rule in Policy.default().rules:
        assert f'id="{rule.id}"' in built, rule.id
    assert "£5,000.00" in built
    matrix = (site / "reference/traceability/index.html").read_text("utf-8")
    for sentence in normative.sentences:
        assert sentence.id in matrix, sentence.id


def test_the_api_reference_and_schemas_are_generated(site):
    api = (site / "reference/api/index.html").read_text("utf-8")
    assert "Apply" in api and "evaluate" in api  # the docstring of evaluate, rendered by mkdocstrings
    contract = (site / "json-contract/index.html").read_text("utf-8")
    assert "generated: json-schema" not in contract and "when_unstated" in contract


API_DIRECTIVE = re.compile(r"^::: ([\w.]+)$", re.MULTILINE)


def _resolve(path: str) -> object:
    """The object a mkdocstrings directive names (``package.module.name`` or a module)."""
    import importlib

    module, _, name = path.rpartition(".")
    try:
        return importlib.import_module(path)
    except ImportError:
        return getattr(importlib.import_module(module), name)


#: The modules a user imports besides ``cr`` (the extras', the testing kit's): each public name is on the API page.
PUBLIC_MODULES = (
    "commissioning_rules.records",
    "commissioning_rules.server",
    "commissioning_rules.dask_runs",
    "commissioning_rules.testing.strategies",
    "commissioning_rules.testing.properties",
    "commissioning_rules.testing.data_tests",
    "commissioning_rules.testing.regression",
    "commissioning_rules.testing.coverage",
    "commissioning_rules.testing.samples",
    "commissioning_rules.testing.threads",
)
#: The one module of the testing kit a user never imports: the ``--cr-policy`` option its two pytest plugins share.
KIT_PLUMBING = {"commissioning_rules.testing.pytest_policy"}


def _public_names(module: object) -> list[str]:
    """A module's ``__all__``, else the functions and classes it defines whose names do not start with ``_``."""
    import inspect

    if hasattr(module, "__all__"):
        return list(module.__all__)
    return [name for name, obj in vars(module).items() if not name.startswith("_")
            and (inspect.isfunction(obj) or inspect.isclass(obj)) and obj.__module__ == module.__name__]


def test_every_public_name_is_documented_on_the_api_page(site):
    import importlib

    import commissioning_rules as cr

    page = (DOCS / "reference" / "api.md").read_text("utf-8")
    documented = {path: _resolve(path) for path in API_DIRECTIVE.findall(page)}
    public = [name for name in cr.__all__ if name != "__version__"]
    missing = [name for name in public if not any(obj is getattr(cr, name) for obj in documented.values())]
    assert not missing, f"in cr.__all__ but not on docs/reference/api.md: {missing}"
    assert "cr.__version__" in page
    built = (site / "reference" / "api" / "index.html").read_text("utf-8")
    rendered = [path for path in documented if f'id="{path}"' not in built]
    assert not rendered, f"directives mkdocstrings did not render: {rendered}"
    # the extras' modules and the testing kit: every public name of each is rendered
    import pkgutil

    import commissioning_rules.testing as kit

    kit_modules = {f"{kit.__name__}.{m.name}" for m in pkgutil.iter_modules(kit.__path__)} - KIT_PLUMBING
    assert kit_modules <= set(PUBLIC_MODULES), f"testing modules not on the API page: {kit_modules - set(PUBLIC_MODULES)}"
    for module_name in PUBLIC_MODULES:
        names = _public_names(importlib.import_module(module_name))
        unrendered = [name for name in names if f'id="{module_name}.{name}"' not in built]
        assert names and not unrendered, f"{module_name}: public names not on the API page: {unrendered}"


# --- the built pages as a browser shows them ---------------------------------------------------------------------

#: Runs in the page once its styles apply; writes what it measured into the DOM, which ``--dump-dom`` prints.
DOM_CHECK = """<script>
(function () {
  const r = {};
  r.clipped = [...document.querySelectorAll('pre > code')]
    .filter(c => c.offsetParent !== null && c.scrollWidth > c.clientWidth + 1)
    .map(c => c.textContent.split('\\n').sort((a, b) => b.length - a.length)[0].slice(0, 80));
  r.emptyHeaders = [...document.querySelectorAll('table thead tr')]
    .filter(tr => ![...tr.cells].some(c => c.textContent.trim())).length;
  const article = document.querySelector('article');
  r.rawSlots = ((article && article.innerText) || '').match(/\\{[A-Za-z0-9_.]+\\}/g) || [];
  r.slots = document.querySelectorAll('var.slot').length;
  r.toc = [...document.querySelectorAll('.md-sidebar--secondary .md-nav--secondary a.md-nav__link')].map(a => a.getAttribute('href'));
  const out = document.createElement('pre');
  out.id = 'dom-check';
  out.textContent = JSON.stringify(r);
  document.body.appendChild(out);
})();
</script>"""
DOM_RESULT = re.compile(r'<pre id="dom-check">(.*?)</pre>', re.DOTALL)
BROWSER_PAGES = ("index.html", "reference/rule-catalogue/index.html", "reference/traceability/index.html")


def _browser() -> str | None:
    import shutil

    return next(filter(None, map(shutil.which, ("chromium", "chromium-browser", "google-chrome"))), None)


@pytest.fixture(scope="module")
def rendered(site):
    """What a headless browser (1280 px wide) finds on each page: clipped code, empty table headers, raw
    ``{slots}``, the page's table of contents."""
    import html
    import json

    browser = _browser()
    if browser is None:
        pytest.skip("no headless browser: install Debian's chromium (.ci/run does) to check the built pages")
    runs = {}
    for page in BROWSER_PAGES:
        checked = site / page.replace(".html", ".dom-check.html")
        checked.write_text((site / page).read_text("utf-8").replace("</body>", DOM_CHECK + "</body>"), "utf-8")
        runs[page] = subprocess.Popen(
            [browser, "--headless", "--no-sandbox", "--disable-gpu", "--window-size=1280,900", "--dump-dom",
             checked.as_uri()], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    found = {}
    for page, run in runs.items():
        out, _ = run.communicate(timeout=180)
        match = DOM_RESULT.search(out)
        assert match, f"the browser did not run the check on {page}"
        found[page] = json.loads(html.unescape(match.group(1)))
    return found


def test_no_code_block_is_clipped_and_no_table_has_an_empty_header_row(rendered):
    for page, found in rendered.items():
        assert found["clipped"] == [], f"{page}: code lines hidden behind a scroll bar"
        assert found["emptyHeaders"] == 0, page


def test_the_catalogues_because_templates_show_readable_slots_not_raw_placeholders(rendered):
    catalogue = rendered["reference/rule-catalogue/index.html"]
    assert catalogue["rawSlots"] == [] and catalogue["slots"] > 100


def test_the_catalogue_does_not_depend_on_the_day_the_site_is_built(monkeypatch):
    hooks = _load_hooks()

    class Later(dt.date):
        @classmethod
        def today(cls):
            return dt.date(2031, 1, 1)

    today = hooks.catalogue_markdown(Policy.default())
    monkeypatch.setattr(hooks.dt, "date", Later)
    assert hooks.catalogue_markdown(Policy.default()) == today


def test_the_traceability_matrix_has_a_table_of_contents_by_section(rendered):
    toc = rendered["reference/traceability/index.html"]["toc"]
    assert {"#section-3-5-1", "#section-3-8", "#section-1-3"} <= set(toc)
