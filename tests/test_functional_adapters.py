"""The JAX and autograd adapters against the float64 reference on the starter catalog."""

from __future__ import annotations

import numpy as np
import pytest

from backends import FunctionBackend, load
from conformance.catalog.starter import starter_specs
from conformance.harness import check, run
from conformance.results import Status
from conformance.spec import Spec

SPECS = starter_specs()


@pytest.mark.parametrize("backend_name", ["jax", "autograd"])
@pytest.mark.parametrize("spec", SPECS, ids=[s.name for s in SPECS])
def test_adapter_passes_starter_case(backend, backend_name: str, spec: Spec) -> None:
    backend = backend(backend_name)
    result = check(spec, backend)
    assert result.status is Status.PASS, f"{spec.name} on {backend_name}: {result.message}"
    assert result.diagnoses == []


def test_starter_catalog_covers_every_kind_in_both_dtypes() -> None:
    assert {(s.kind, s.dtype) for s in SPECS} == {
        (k, d) for k in ("grad", "jacobian", "jvp", "vjp", "hvp") for d in ("float64", "float32")}
    assert len({s.name.rsplit("-", 1)[0] for s in SPECS}) >= 8


def _wrapping(name: str, inner: str, alter) -> FunctionBackend:
    """A backend that computes with a real one, then makes a mistake in the answer."""
    backend = load(inner)
    programs: dict[str, object] = {}

    def compute(spec: Spec, arrays):
        program = programs.setdefault(spec.name, backend.prepare(spec))
        out = program(arrays)
        return {k: (v if k == "value" else alter(v)) for k, v in out.items()}

    return FunctionBackend(name, compute)


@pytest.mark.parametrize(("mistake", "alter"), [
    ("scaled-1.01", lambda g: g * 1.01),
    ("transposed", lambda g: np.ascontiguousarray(np.swapaxes(g, 0, -1)) if g.ndim == 2 else g),
    ("one-element-off",
     lambda g: g + ((np.arange(g.size).reshape(g.shape) == 0) * 1e-2).astype(g.dtype)),
])
def test_a_wrong_adapter_fails(backend, mistake: str, alter) -> None:
    backend("autograd")
    jac = [s for s in SPECS if s.name == "vector-jacobian-float64"]
    square = Spec("square-jacobian", lambda xp, x: xp.tanh(x) * x[::-1],
                  {"x": np.linspace(-1, 1, 4)}, ("x",), kind="jacobian")
    specs = [s for s in SPECS if s.name in ("polynomial-float64", "logsumexp-float32")] + jac
    if mistake == "transposed":
        specs = [square]
    report = run(specs, [_wrapping(mistake, "autograd", alter)])
    for result in report.results:
        assert result.status is Status.FAIL, f"{mistake} not caught on {result.spec}"
        assert result.worst is not None and result.worst.abs_error > result.worst.allowed
    assert not report.ok


def test_adapter_exception_is_an_error_row_and_others_survive(backend) -> None:
    backend("autograd")

    def broken(spec, arrays):
        raise RuntimeError("the adapter's own bug")

    spec = SPECS[0]
    report = run([spec], [FunctionBackend("broken", broken), load("autograd")])
    by_backend = {r.backend: r for r in report.results}
    assert by_backend["broken"].status is Status.ERROR
    assert "RuntimeError: the adapter's own bug" in by_backend["broken"].message
    assert by_backend["autograd"].status is Status.PASS


def test_pairwise_agreement_is_reported(backend) -> None:
    backend("autograd")
    backend("jax")
    report = run(SPECS[:1], [load("jax"), load("autograd")])
    jax_row = next(r for r in report.results if r.backend == "jax")
    assert set(jax_row.pairwise) == {"autograd"}
    # two correct answers differ by rounding, which varies between machines: within the
    # allowance, not below a figure measured on one of them
    assert 0 <= jax_row.pairwise["autograd"] <= jax_row.tolerance["allowed"]


def test_jax_programs_trace_once_for_new_values(backend) -> None:
    backend("jax")
    spec = next(s for s in SPECS if s.name == "mlp-tanh-loss-wrt-inputs-float64")
    program = load("jax").prepare(spec)
    counts = []
    for scale in (1.0, 2.0, 3.0):
        program(spec.cast({n: a * scale for n, a in spec.arrays.items()}))
        counts.append(program.trace_count())
    assert counts == [1, 1, 1]
    assert not hasattr(load("autograd").prepare(spec), "trace_count")  # nothing to trace
