"""The pytest plug-in, run through real pytest sessions (``pytester``) on autograd.

Both uses: ``assert_gradients`` inside a user's test, and the catalog as a pytest run
(``--gradparity-backend``) with its skip and expected-failure files.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

pytest_plugins = ["pytester"]

#: Two polynomial specs, float64 and float32: fast on every backend.
POLYNOMIAL = ("--gradparity-spec", "polynomial-*")


def run(pytester: pytest.Pytester, *args: str) -> pytest.RunResult:
    """pytest in a fresh process (numpy and the frameworks do not survive being imported
    twice in one, as in-process runs would do), in ``pytester``'s directory."""
    return pytester.runpytest_subprocess("-p", "no:cacheprovider", "-p", "no:hypothesispytest",
                                         *args)


@pytest.fixture
def catalog_dir(backend, pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
                ) -> pytest.Pytester:
    """A pytester directory from which ``plugin_backends`` (in tests/) is importable."""
    backend("autograd")
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(
        filter(None, [str(Path(__file__).parent), os.environ.get("PYTHONPATH")])))
    return pytester


def test_catalog_run_has_one_item_per_case(catalog_dir: pytest.Pytester) -> None:
    result = run(catalog_dir, "-v", "--gradparity-backend", "autograd", *POLYNOMIAL)
    result.assert_outcomes(passed=2)
    result.stdout.fnmatch_lines([
        "autograd: autograd *",  # the header names the framework version
        "gradparity catalog: 2 specs x 1 backend",
        "gradparity::polynomial-float64[[]autograd[]] PASSED*",
        "gradparity::polynomial-float32[[]autograd[]] PASSED*",
    ])


def test_no_catalog_item_unless_asked(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_own="def test_own():\n    pass\n")
    result = run(pytester)
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["tolerances: float64 rtol=1e-06 *", "collected 1 item"])


def test_catalog_alone_without_paths_and_beside_given_paths(catalog_dir: pytest.Pytester) -> None:
    catalog_dir.makepyfile(test_own="def test_own():\n    pass\n")
    alone = run(catalog_dir, "--gradparity-backend", "autograd", *POLYNOMIAL)
    alone.assert_outcomes(passed=2)
    beside = run(catalog_dir, "test_own.py", "--gradparity-backend", "autograd", *POLYNOMIAL)
    beside.assert_outcomes(passed=3)


def test_failure_shows_worst_element_and_tolerance(catalog_dir: pytest.Pytester) -> None:
    result = run(catalog_dir, "--gradparity-backend", "plugin_backends:Wrong",
                                   "--gradparity-spec", "polynomial-float64")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines([
        "FAIL: spec 'polynomial-float64' on backend 'wrong'",
        "  diagnosis*",
        "  worst element: x[[]*[]] = *, reference * (|error| * > allowed *)",
        "  tolerance (float64): rtol 1e-06, floor 1e-09 x scale; max relative error 9.9*e-03 "
        "(allowed 1.0*e-06 at the worst element)*",
    ])


def test_not_installed_backend_is_skipped_with_reason(catalog_dir: pytest.Pytester) -> None:
    result = run(catalog_dir, "-rs", "--gradparity-backend", "plugin_backends:Missing",
                                   *POLYNOMIAL)
    result.assert_outcomes(skipped=2)
    result.stdout.fnmatch_lines(["SKIPPED * SKIPPED: not installed: no_such_framework_xyz*"])


def test_skip_and_xfail_files_and_a_typo_warns(catalog_dir: pytest.Pytester) -> None:
    catalog_dir.path.joinpath("skips.txt").write_text(
        "# known slow\npolynomial-float32[autograd]  # not needed here\n"
        "polynomal-float64[autograd]\n")
    catalog_dir.path.joinpath("xfails.txt").write_text("polynomial-*[wrong]  # 1 % off\n")
    result = run(catalog_dir, "-rsx", "--gradparity-backend", "autograd",
                 "--gradparity-backend", "plugin_backends:Wrong", *POLYNOMIAL,
                 "--gradparity-skips", "skips.txt", "--gradparity-xfails", "xfails.txt")
    result.assert_outcomes(passed=1, skipped=1, xfailed=2, warnings=1)
    result.stdout.fnmatch_lines([
        "*UnmatchedIdWarning: 1 entries of --gradparity-skips skips.txt match no collected "
        "catalog test: polynomal-float64[[]autograd[]]*",
        "SKIPPED [[]1[]] gradparity*: --gradparity-skips skips.txt: "
        "polynomial-float32[[]autograd[]] (not needed here)",
        "XFAIL *polynomial-float64[[]wrong[]]*xfails.txt: polynomial-*[[]wrong[]] (1 % off)*",
    ])


def test_unknown_backend_or_spec_is_a_usage_error(catalog_dir: pytest.Pytester) -> None:
    result = run(catalog_dir, "--gradparity-backend", "nosuch")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*gradparity: unknown backend 'nosuch'; known: *"])
    result = run(catalog_dir, "--gradparity-backend", "autograd", "--gradparity-spec", "nope*")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*--spec 'nope*' matches no spec*"])


def test_assert_gradients_in_a_users_test(catalog_dir: pytest.Pytester) -> None:
    catalog_dir.makepyfile(test_mine="""
        import numpy as np
        import pytest
        from conformance.pytest_plugin import GradientMismatch, assert_gradients
        from conformance.spec import Spec

        def loss(xp, x):
            return xp.sum(xp.sin(x) * x)

        SPEC = Spec(name="my-loss", fn=loss, arrays={"x": np.linspace(0.1, 1.0, 5)}, wrt=("x",))

        def mine(spec, arrays):
            x = arrays["x"]
            return {"value": np.sum(np.sin(x) * x), "x": np.cos(x) * x + np.sin(x)}

        def forgot_product_rule(spec, arrays):
            x = arrays["x"]
            return {"value": np.sum(np.sin(x) * x), "x": np.cos(x) * x}

        def test_mine():
            assert assert_gradients(SPEC, mine).status.value == "PASS"

        def test_by_backend_name():
            assert_gradients(SPEC, "autograd")

        def test_missing_framework():
            assert_gradients(SPEC, "plugin_backends:Missing")

        def test_wrong():
            assert_gradients(SPEC, forgot_product_rule)
    """)
    result = run(catalog_dir, "-rs")
    result.assert_outcomes(passed=2, skipped=1, failed=1)
    result.stdout.fnmatch_lines([
        "*assert_gradients(SPEC, forgot_product_rule)",
        "E*GradientMismatch: FAIL: spec 'my-loss' on backend 'forgot_product_rule'",
        "E*worst element: x[[]4[]] = *, reference *",
        "E*tolerance (float64): rtol 1e-06, floor 1e-09 x scale*",
        "SKIPPED *not installed: no_such_framework_xyz*",
    ])


def test_plugin_imports_no_framework(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_modules="""
        import sys

        def test_no_framework_imported():
            loaded = {"tensorflow", "jax", "autograd", "torch"} & set(sys.modules)
            assert not loaded, f"the plug-in imported {loaded} into a plain pytest run"
    """)
    run(pytester).assert_outcomes(passed=1)


#: Two specs the Crashes backend kills its process on, and two it computes.
CRASHING = ("--gradparity-backend", "plugin_backends:Crashes", "--gradparity-spec", "polynomial-*",
            "--gradparity-spec", "rosenbrock-hvp-*", "-p", "no:faulthandler")


def test_a_crashing_backend_ends_an_in_process_session(catalog_dir: pytest.Pytester) -> None:
    result = run(catalog_dir, *CRASHING)
    assert result.ret not in (0, 1)  # killed by the signal: no outcome, no summary
    assert not any(" passed" in line or " failed" in line for line in result.outlines)


def test_isolation_turns_a_crash_into_one_failed_test(catalog_dir: pytest.Pytester) -> None:
    result = run(catalog_dir, "-v", *CRASHING, "--gradparity-isolate")
    result.assert_outcomes(passed=2, failed=2)
    result.stdout.fnmatch_lines([
        "gradparity catalog: 4 specs x 1 backend, isolated in worker processes (timeout 60 s)",
    ])
    result.stdout.fnmatch_lines([
        "*polynomial-float64[[]crashes[]] PASSED*",
        "*polynomial-float32[[]crashes[]] FAILED*",
        "*rosenbrock-hvp-float64[[]crashes[]] PASSED*",
        "*rosenbrock-hvp-float32[[]crashes[]] FAILED*",
    ])
    result.stdout.fnmatch_lines(["ERROR: spec 'polynomial-float32' on backend 'crashes'",
                                 "*worker crashed: killed by signal SIGSEGV*"])
    result.stdout.fnmatch_lines(["ERROR: spec 'rosenbrock-hvp-float32' on backend 'crashes'",
                                 "*worker crashed: killed by signal SIGABRT*"])


def test_isolation_from_the_ini_file_and_its_judging_matches_in_process(
        catalog_dir: pytest.Pytester) -> None:
    args = ("-rs", "--gradparity-backend", "autograd", "--gradparity-backend",
            "plugin_backends:Wrong", "--gradparity-backend", "plugin_backends:GradOnly",
            *POLYNOMIAL, "--gradparity-spec", "mlp-jvp-*")
    in_process = run(catalog_dir, *args)
    catalog_dir.makeini("[pytest]\ngradparity_isolate = true\n")
    isolated = run(catalog_dir, *args, "--gradparity-timeout", "30")
    isolated.stdout.fnmatch_lines(["*isolated in worker processes (timeout 30 s)"])
    assert isolated.parseoutcomes() == in_process.parseoutcomes() == {
        "passed": 6, "failed": 4, "skipped": 2}


def test_isolation_times_a_hanging_case_out(catalog_dir: pytest.Pytester) -> None:
    result = run(catalog_dir, "--gradparity-backend", "plugin_backends:Crashes",
                 "--gradparity-spec", "logsumexp-*", "--gradparity-isolate",
                 "--gradparity-timeout", "2")
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(["ERROR: spec 'logsumexp-float32' on backend 'crashes'",
                                 "*timeout: no answer within 2 s; the worker was killed*"])


def test_a_timeout_without_isolation_is_a_usage_error(catalog_dir: pytest.Pytester) -> None:
    result = run(catalog_dir, "--gradparity-backend", "autograd", *POLYNOMIAL,
                 "--gradparity-timeout", "5")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*--gradparity-timeout: * add --gradparity-isolate"])
