"""Outputs that lie: every kind of malformed answer is a clear row, never a harness crash.

Each planted liar (tests/planted_faults.py) answers correctly except on ``logsumexp-*``, where
it returns one kind of bad output. The same rows must come out of ``--in-process`` and of the
workers, where non-numpy items travel as descriptions.
"""

from __future__ import annotations

import json

import numpy as np
import planted_faults
import pytest

from conformance.catalog.starter import starter_specs
from conformance.contract import Foreign, contract_violation, portable
from conformance.harness import in_process, run
from conformance.reports.json import to_json, write_json
from conformance.results import Status
from conformance.workers import WorkerOptions, in_workers

#: Lie -> words the row's message must contain (the key, what came, what was expected).
EXPECTED = {
    "none": ["the program returned None", "dict of numpy arrays"],
    "list": ["the program returned builtins.list"],
    "missing-key": ["missing key(s) 'z'", "'value', 'z'"],
    "extra-key": ["unexpected key(s) 'bonus'"],
    "none-gradient": ["z", "None"],
    "wrong-shape": ["'z'", "(21,)", "(4, 5)"],
    "float32": ["z", "float32", "float64"],
    "complex": ["key 'z' has dtype complex128, expected float64"],
    "integer": ["key 'z' has dtype int64, expected float64"],
    "python-scalar": ["key 'value' is a builtins.float", "np.asarray"],
    "tensor": ["key 'z' is a planted_faults.Tensor [(4, 5) float64], not a numpy array"],
    "jax-array": ["key 'z' is a jaxlib", "not a numpy array"],
    "nan": ["z", "nan"],
    "inf": ["z", "inf"],
}
SPECS = ("polynomial-float64", "logsumexp-float64")


@pytest.fixture(scope="module")
def specs(backend):
    backend("autograd")
    return [s for s in starter_specs() if s.name in SPECS]


@pytest.fixture(scope="module")
def worker_report(backend, specs):
    """All liars at once, each in its own worker."""
    backend("jax")
    liars = [planted_faults.liar(lie) for lie in EXPECTED]
    return run(specs, liars, executor=in_workers(WorkerOptions(jobs=2, timeout=60)))


def test_every_lie_has_a_named_case() -> None:
    assert set(EXPECTED) == set(planted_faults.LIES)


@pytest.mark.parametrize("lie", EXPECTED)
def test_a_lie_is_a_clear_row_in_process_and_in_workers(specs, worker_report, lie) -> None:
    report = run(specs, [planted_faults.liar(lie)], executor=in_process)
    truthful, lying = report.results
    assert truthful.status is Status.PASS  # the same backend on a spec it does not lie on
    assert lying.status in (Status.FAIL, Status.ERROR)
    for words in EXPECTED[lie]:
        assert words in lying.message, lying.message
    from_worker = next(r for r in worker_report.results
                       if r.backend == lying.backend and r.spec == lying.spec)
    assert (from_worker.status, from_worker.message) == (lying.status, lying.message)
    json.dumps(to_json(report), allow_nan=False)  # a NaN answer still makes valid JSON


def test_a_report_with_nan_errors_is_written(specs, tmp_path) -> None:
    report = run(specs, [planted_faults.liar("nan"), planted_faults.Planted()])
    write_json(report, tmp_path / "r.json")
    rows = json.loads((tmp_path / "r.json").read_text())["results"]
    nan_row = next(r for r in rows if r["backend"] == "lie-nan" and r["spec"] == SPECS[1])
    assert "nan" in json.dumps(nan_row)


def test_portable_keeps_numpy_and_describes_the_rest() -> None:
    out = portable({"value": np.float64(1.0), "x": np.ones(3), "y": 2.5, "z": None,
                    "t": planted_faults.Tensor(np.ones((2, 3), np.float32)),
                    "o": np.array([object()]), 3: "three"})
    assert out["value"] == 1.0 and isinstance(out["x"], np.ndarray)
    assert out["y"] == 2.5 and out["z"] is None and out[3] == "three"
    assert out["t"] == Foreign("planted_faults.Tensor", "(2, 3) float32")
    assert out["o"] == Foreign("numpy.ndarray", "(1,) object")
    assert portable(planted_faults.Tensor(np.ones(2))).type_name == "planted_faults.Tensor"


def test_contract_violation_names_foreign_items_like_the_real_ones(specs) -> None:
    spec = specs[0]
    real = {"value": np.float64(1.0), "x": planted_faults.Tensor(np.ones(7))}
    assert contract_violation(spec, real, ()) == contract_violation(spec, portable(real), ())
    assert contract_violation(spec, {"value": np.float64(1.0), "x": np.ones(7)}, ()) is None
