"""``python -m commissioning_rules`` is the ``commissioning-rules`` command line, the same program: the same
commands, ``--help``, error messages and exit statuses. With no command it runs ``demo``: a real evaluation of a
bundled example case, explained in plain English.
"""

from __future__ import annotations

import sys

from commissioning_rules.cli import main

if __name__ == "__main__":
    sys.exit(main())
