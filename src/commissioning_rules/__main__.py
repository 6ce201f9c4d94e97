"""``python -m commissioning_rules``: with no arguments, evaluate a bundled example case and explain it.

``python -m commissioning_rules CASE.json`` explains that case; any command of the ``commissioning-rules``
command line also works here (``python -m commissioning_rules batch cases.jsonl -o decisions.jsonl``; ``--help``).
"""

from __future__ import annotations

import json
import sys
from importlib import resources

from commissioning_rules import evaluate

EXAMPLE = "community_lunch_club.json"


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if args and (args[0].startswith("-") and args[0] != "-" or args[0] in _commands()):
        from commissioning_rules.cli import main as cli_main

        return cli_main(args)
    if args:
        with open(args[0], encoding="utf-8") as handle:
            case = json.load(handle)
    else:
        case = json.loads(resources.files("commissioning_rules.examples").joinpath(EXAMPLE).read_text("utf-8"))
    print(evaluate(case).explain(), end="")
    return 0


def _commands() -> set[str]:
    from commissioning_rules.cli import cli

    return set(cli.commands)


if __name__ == "__main__":
    sys.exit(main())
