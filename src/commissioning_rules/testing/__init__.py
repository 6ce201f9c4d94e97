"""A testing kit for policies: strategies, ready-made properties, tests as data, rule coverage.

    from commissioning_rules.testing import strategies as crst   # hypothesis strategies for cases
    from commissioning_rules.testing import properties           # properties.check_all(policy)
    from commissioning_rules.testing import data_tests           # YAML/JSON tests: a case and what to expect
    from commissioning_rules.testing import coverage             # which rules fired, per rule set
    from commissioning_rules.testing import threads              # many threads released together, for races

``strategies`` and ``properties`` need hypothesis (``pip install "commissioning-rules[testing]"``);
``data_tests`` and ``coverage`` do not. Nothing is imported here, so importing this package costs nothing.
"""
