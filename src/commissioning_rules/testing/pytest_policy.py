"""The ``--cr-policy FILE`` option both pytest plugins of the kit share (``coverage`` and ``data_tests``).

Each plugin calls :func:`add_policy_option` from its ``pytest_addoption`` (the option is added once, whichever
plugin is loaded first) and :func:`session_policy` to read it: the council's policy file, loaded once per
session, or the Norwich framework when no file is given. The option can also be set in the pytest
configuration (``cr_policy = our-policy.yaml`` under ``[pytest]``/``[tool.pytest.ini_options]``), relative to
the configuration file's folder. A file that does not load stops the session with the file's own error (the
line and key at fault), not a traceback.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from commissioning_rules.policy import Policy

if TYPE_CHECKING:
    import pytest

OPTION = "--cr-policy"
INI = "cr_policy"
_KEY = "_commissioning_rules_policy"


def add_policy_option(parser: pytest.Parser) -> None:
    """Add ``--cr-policy`` (and the ``cr_policy`` ini setting) unless another plugin of the kit already has."""
    group = parser.getgroup("commissioning_rules", "commissioning_rules (testing a council's policy)")
    if any(OPTION in option.names() for option in group.options):
        return
    group.addoption(
        OPTION,
        metavar="FILE",
        default=None,
        help="a council's policy file (YAML, layered over the Norwich framework): data tests run under it and "
        "rule coverage is reported against its rules (default: the Norwich framework)",
    )
    parser.addini(INI, "a council's policy file, as --cr-policy (relative to this configuration file)", default="")


def policy_file(config: pytest.Config) -> Path | None:
    """The policy file the session was given (``--cr-policy``, else the ``cr_policy`` setting), or ``None``."""
    given = config.getoption(OPTION, default=None)
    if given:
        return Path(given)
    configured = config.getini(INI)
    if configured:
        base = Path(config.inipath).parent if config.inipath else Path(config.rootpath)
        return base / str(configured)
    return None


def session_policy(config: pytest.Config) -> Policy:
    """The session's policy: ``--cr-policy``'s file loaded once, or :meth:`Policy.default`."""
    cached = getattr(config, _KEY, None)
    if isinstance(cached, Policy):
        return cached
    path = policy_file(config)
    if path is None:
        policy = Policy.default()
    else:
        import pytest

        from commissioning_rules.policy_file import PolicyFileError

        if not path.is_file():
            raise pytest.UsageError(f"{OPTION} {path}: no such file")
        try:
            policy = Policy.from_file(path)
        except PolicyFileError as error:
            raise pytest.UsageError(f"{OPTION}: {error}") from None
    setattr(config, _KEY, policy)
    return policy
