"""Time budgets and framework gaps: a spec's own timeout, the elapsed time of a crashed case,
a missing derivative rule as UNSUPPORTED, sparse TF gradients made dense."""

from __future__ import annotations

import os
import time

import numpy as np
import pytest

from backends import load
from backends.autograd_backend import AutogradBackend
from conformance.harness import check, run
from conformance.results import Status
from conformance.spec import Spec, SpecError
from conformance.workers import WorkerOptions, case_timeout, in_workers

#: The run's timeout in these tests, and how long the planted backends take.
RUN_TIMEOUT = 1.0
NAP = 2.0


def square_sum(xp, x):
    return xp.sum(x**2)


class Napping(AutogradBackend):
    """autograd, after a nap longer than the run's timeout."""

    name = "napping"

    def prepare(self, spec: Spec):
        time.sleep(NAP)
        return super().prepare(spec)


class NapThenCrash(AutogradBackend):
    """Naps, then its worker exits without answering."""

    name = "nap-then-crash"

    def prepare(self, spec: Spec):
        time.sleep(NAP / 4)
        os._exit(3)


def specs_with_budgets() -> list[Spec]:
    x = {"x": np.arange(1.0, 4.0)}
    return [Spec("own-budget", square_sum, x, ("x",), timeout=30.0),
            Spec("run-budget", square_sum, x, ("x",))]


def test_a_specs_timeout_raises_its_budget_above_the_runs(backend) -> None:
    backend("autograd")
    options = WorkerOptions(jobs=1, timeout=RUN_TIMEOUT)
    report = run(specs_with_budgets(), [Napping()], executor=in_workers(options))
    rows = {r.spec: r for r in report.results}
    assert rows["own-budget"].status is Status.PASS
    assert rows["run-budget"].status is Status.ERROR
    assert rows["run-budget"].message.startswith(f"timeout: no answer within {RUN_TIMEOUT:g} s")
    assert rows["run-budget"].seconds >= RUN_TIMEOUT


def test_a_spec_timeout_never_lowers_the_runs_and_must_be_positive() -> None:
    own, plain = specs_with_budgets()
    assert case_timeout(own, 5.0) == 30.0 and case_timeout(own, 60.0) == 60.0
    assert case_timeout(plain, 5.0) == 5.0 and case_timeout(None, 5.0) == 5.0
    for bad in (0, -1.0, "10"):
        with pytest.raises(SpecError, match="timeout"):
            Spec("bad", square_sum, {"x": np.ones(2)}, ("x",), timeout=bad)


def test_a_crashed_case_keeps_its_elapsed_time(backend) -> None:
    backend("autograd")
    report = run(specs_with_budgets()[1:], [NapThenCrash()],
                 executor=in_workers(WorkerOptions(jobs=1, timeout=30.0)))
    (row,) = report.results
    assert row.status is Status.ERROR and "exited with code 3" in row.message
    assert row.seconds >= NAP / 4


def cumulative_product(xp, x):
    return xp.sum(xp.cumprod(x))


def test_a_missing_derivative_rule_is_unsupported_with_the_frameworks_message(backend) -> None:
    backend("autograd")
    spec = Spec("cumprod", cumulative_product, {"x": np.array([0.5, 1.5, 2.0])}, ("x",))
    result = check(spec, load("autograd"))
    assert result.status is Status.UNSUPPORTED
    assert result.message == "NotImplementedError: VJP of cumprod wrt argnums (0,) not defined"


def gathered(xp, x):
    return xp.sum(xp.take(x, [0, 2, 2, 3], axis=0) ** 3)


def gathered_rows(xp, x):
    return xp.take(x, [1, 0, 1], axis=0) * 2.0


@pytest.mark.parametrize("backend_name", ["tf-eager", "tf-graph"])
def test_sparse_gradients_of_take_are_densified(backend, backend_name: str) -> None:
    backend(backend_name)
    x = np.array([0.5, -1.0, 2.0, 1.5, 3.0])
    grad = Spec("take-grad", gathered, {"x": x}, ("x",))
    out = load(backend_name).prepare(grad)(grad.cast())
    assert isinstance(out["x"], np.ndarray) and out["x"].dtype == np.float64
    assert np.allclose(out["x"], 3 * x**2 * np.array([1, 0, 2, 1, 0]))
    rows = np.arange(6.0).reshape(3, 2)
    vjp = Spec("take-vjp", gathered_rows, {"x": rows}, ("x",), kind="vjp",
               cotangent=np.ones((3, 2)))
    assert np.allclose(load(backend_name).prepare(vjp)(vjp.cast())["x"], [[2, 2], [4, 4], [0, 0]])
    for spec in (grad, vjp):
        assert check(spec, load(backend_name)).status is Status.PASS
