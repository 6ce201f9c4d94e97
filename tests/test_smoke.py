

def test_bundled_example_runs():
    from commissioning_rules.__main__ import main

    assert main([]) == 0
