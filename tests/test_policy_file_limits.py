"""A policy file is bounded (size, depth, alias expansion, digits, UTF-8, names): hostile files are refused with
a PolicyFileError naming the file and the line, at and just past each limit."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import commissioning_rules as cr
from commissioning_rules.policy_file import (
    LIMITS,
    MAX_BYTES,
    MAX_DEPTH,
    MAX_NODES,
    MAX_NUMBER_DIGITS,
    PolicyFileError,
    _check_bounds,
)

VALUE = "{effective_from: 2024-04-01, value: %s, source: Cabinet}"


def refused(tmp_path: Path, content: bytes) -> PolicyFileError:
    path = tmp_path / "policy.yaml"
    path.write_bytes(content)
    with pytest.raises(PolicyFileError) as caught:
        cr.Policy.from_file(path)
    assert caught.value.file == str(path) and str(path) in str(caught.value)
    return caught.value


def billion_laughs(levels: int = 9) -> bytes:
    text = 'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n'
    for i in range(1, levels):
        name, previous = chr(97 + i), chr(96 + i)
        text += f"{name}: &{name} [{', '.join(['*' + previous] * 9)}]\n"
    return (text + "name: x\n").encode()


@pytest.mark.parametrize(
    ("content", "line", "says"),
    [
        (billion_laughs(), 6, "aliases are expanded"),
        (b"name: x\nrules: " + b"[" * 100_000 + b"]" * 100_000 + b"\n", 2, "nest"),
        (b"name: x\nrules: " + b"[" * 40 + b"]" * 40 + b"\n", 2, f"nested more than {MAX_DEPTH} levels"),
        (b"name: x\nparameters:\n  notice_ordinary_months:\n    values:\n      - " + (VALUE % ("9" * 5000)).encode() + b"\n",
         5, f"more than {MAX_NUMBER_DIGITS} characters"),
        (b"name: x\nparameters:\n  accounts_threshold:\n    values:\n      - " + (VALUE % ('"' + "9" * 29 + '.00"')).encode() + b"\n",
         5, "more than an amount of money can be"),
        (b"name: x\nparameters:\n  accounts_threshold:\n    values:\n      - " + (VALUE % ('"' + "9" * 5000 + '"')).encode() + b"\n",
         5, "more than an amount of money can be"),
        ("name: x\ndescription: Caf\xe9\n".encode("latin-1"), 2, "not UTF-8"),
        (b"name: x\nparameters:\n  __class__: {description: d, unit: GBP, section: s, values: [" + (VALUE % "'1.00'").encode()
         + b"]}\n", 3, "expected a parameter name"),
    ],
    ids=["alias-bomb", "100k-nested", "past-max-depth", "5000-digit-int", "29-digit-money", "5000-digit-money",
         "latin-1", "dunder-name"],
)
def test_a_hostile_policy_file_is_refused_naming_file_and_line(tmp_path, content, line, says):
    error = refused(tmp_path, content)
    assert error.line == line
    assert says in str(error)


def test_a_file_past_the_size_bound_is_refused_without_being_read_whole(tmp_path):
    path = tmp_path / "huge.yaml"
    with path.open("wb") as handle:  # sparse: 100 MB on paper, nothing on disk
        handle.write(b"name: x\n")
        handle.truncate(100 * 2**20)
    with pytest.raises(PolicyFileError, match=f"larger than {MAX_BYTES:,} bytes"):
        cr.Policy.from_file(path)


def test_the_size_bound_is_exact(tmp_path):
    head = b"name: Sized\n# "
    path = tmp_path / "at-limit.yaml"
    path.write_bytes(head + b"x" * (MAX_BYTES - len(head) - 1) + b"\n")
    assert cr.Policy.from_file(path).name == "Sized"
    path.write_bytes(head + b"x" * (MAX_BYTES - len(head)) + b"\n")
    with pytest.raises(PolicyFileError, match="larger than"):
        cr.Policy.from_file(path)


def _nodes(total: int) -> str:
    """A document of exactly ``total`` YAML nodes once its aliases are expanded."""
    anchored = 1000  # a list node and 999 scalars
    aliases, rest = divmod(total - (1 + 1 + anchored) - 2 - 2, anchored)
    return (f"a: &x [{', '.join(['1'] * (anchored - 1))}]\n"
            f"b: [{', '.join(['*x'] * aliases)}]\n"
            f"c: [{', '.join(['1'] * rest)}]\n")


@pytest.mark.parametrize(
    ("at_limit", "past_limit"),
    [
        ("a: " + "[" * (MAX_DEPTH - 1) + "]" * (MAX_DEPTH - 1), "a: " + "[" * MAX_DEPTH + "]" * MAX_DEPTH),
        (_nodes(MAX_NODES), _nodes(MAX_NODES + 1)),
        ("a: " + "1" * MAX_NUMBER_DIGITS, "a: " + "1" * (MAX_NUMBER_DIGITS + 1)),
        ("a: " + "1" * (MAX_NUMBER_DIGITS - 5) + ".5e+1", "a: " + "1" * (MAX_NUMBER_DIGITS - 4) + ".5e+1"),
    ],
    ids=["depth", "nodes", "integer-digits", "float-digits"],
)
def test_each_bound_holds_at_the_limit_and_refuses_one_past_it(at_limit, past_limit):
    _check_bounds(at_limit, "policy.yaml")
    with pytest.raises(PolicyFileError):
        _check_bounds(past_limit, "policy.yaml")


def test_quoted_text_of_digits_and_long_words_are_not_numbers():
    _check_bounds("a: '" + "1" * 100 + "'\nb: 2024 budget round, " + "x" * 100 + "\n", "policy.yaml")


def test_anchors_and_aliases_within_the_bound_still_work(tmp_path):
    path = tmp_path / "anchored.yaml"
    path.write_text(
        "name: Anchored\nparameters:\n  accounts_threshold:\n    values:\n"
        "      - {effective_from: 2024-04-01, value: \"10000.00\", source: &cabinet Cabinet 12 March 2024}\n"
        "      - {effective_from: 2025-04-01, value: \"12000.00\", source: *cabinet}\n",
        "utf-8",
    )
    policy = cr.Policy.from_file(path)
    assert [v.source for v in policy.parameters["accounts_threshold"].values[-2:]] == ["Cabinet 12 March 2024"] * 2


def test_the_guide_states_every_limit_as_the_code_has_it():
    guide = (Path(__file__).parents[1] / "docs" / "guides" / "adopting.md").read_text("utf-8")
    for limit in LIMITS:
        row = re.search(rf"^\| `{limit.name}` \| ([0-9,]+) \| ([^|]+) \| ([0-9-]+) \|", guide, re.MULTILINE)
        assert row, f"docs/guides/adopting.md has no row for {limit.name}"
        assert (int(row[1].replace(",", "")), row[2].strip(), row[3]) == (limit.value, limit.unit, limit.since.isoformat())
