"""commissioning_rules: Norwich City Council's Commissioning framework (2014) as typed, explainable rules.

    >>> import commissioning_rules as cr
    >>> decision = cr.evaluate({"as_of": "2026-04-01", "organisation": {"kind": "charity", "annual_turnover": "1200.00"}})
    >>> decision.eligibility.eligible
    False
    >>> print(decision.explain())  # doctest: +SKIP
"""

from commissioning_rules.batch import ItemError, evaluate_many
from commissioning_rules.check import CheckFinding, check
from commissioning_rules.compare import Comparison, compare
from commissioning_rules.engine import EngineName, EngineUnavailable
from commissioning_rules.evaluate import evaluate
import commissioning_rules.explain  # noqa: F401 - installs Decision.explain's wording (models never import prose)
from commissioning_rules.models import Case, Decision, sources_included
from commissioning_rules.parameters import ParameterError
from commissioning_rules.policy import Policy
from commissioning_rules.policy_file import PolicyFileError

#: The package's version: the one place it is written (pyproject.toml reads it from here).
__version__ = "0.1.0"
__all__ = [
    "Case",
    "CheckFinding",
    "Comparison",
    "Decision",
    "EngineName",
    "EngineUnavailable",
    "ItemError",
    "ParameterError",
    "Policy",
    "PolicyFileError",
    "check",
    "compare",
    "evaluate",
    "evaluate_many",
    "sources_included",
    "__version__",
]
