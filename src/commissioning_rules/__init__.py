"""commissioning_rules: Norwich City Council's Commissioning framework (2014) as typed, explainable rules.

    >>> import commissioning_rules as cr
    >>> decision = cr.evaluate({"as_of": "2026-04-01", "organisation": {...}, "service": {...}})
    >>> decision.eligibility.eligible
    >>> print(decision.explain())
"""

from commissioning_rules.batch import evaluate_many
from commissioning_rules.check import CheckFinding, check
from commissioning_rules.compare import Comparison, compare
from commissioning_rules.evaluate import evaluate
import commissioning_rules.explain  # noqa: F401 - installs Decision.explain's wording (models never import prose)
from commissioning_rules.models import Case, Decision
from commissioning_rules.parameters import ParameterError
from commissioning_rules.policy import Policy
from commissioning_rules.policy_file import PolicyFileError

__version__ = "0.1.0"
__all__ = [
    "Case",
    "CheckFinding",
    "Comparison",
    "Decision",
    "ParameterError",
    "Policy",
    "PolicyFileError",
    "check",
    "compare",
    "evaluate",
    "evaluate_many",
    "__version__",
]
