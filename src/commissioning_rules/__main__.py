"""``python -m commissioning_rules [CASE.json]``: evaluate a case (default: a bundled example) and explain it."""

from __future__ import annotations

import json
import sys
from importlib import resources

from commissioning_rules import evaluate

EXAMPLE = "community_lunch_club.json"


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if args and args[0] in ("-h", "--help"):
        print(__doc__)
        return 0
    if args:
        with open(args[0], encoding="utf-8") as handle:
            case = json.load(handle)
    else:
        case = json.loads(resources.files("commissioning_rules.examples").joinpath(EXAMPLE).read_text("utf-8"))
    print(evaluate(case).explain(), end="")
    return 0


if __name__ == "__main__":
    sys.exit(main())
