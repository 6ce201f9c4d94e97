"""Suite-wide set-up: a hypothesis profile that keeps the whole suite within a couple of minutes on two cores,
and pytester. The testing kit's pytest plugins come from the package's entry points (``--rule-coverage`` prints
which rules the suite fired)."""

from hypothesis import HealthCheck, settings

pytest_plugins = ["pytester"]

# No deadline: the first evaluation compiles the policy for durable-rules. Tests that need more examples
# (the 2,000-case engine comparison) say so themselves.
settings.register_profile(
    "suite", max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large]
)
settings.load_profile("suite")
