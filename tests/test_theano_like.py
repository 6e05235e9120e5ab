"""The ``theano`` and ``pytensor`` adapters: every kind against analytic derivatives, both
dtypes, repeat calls with new arrays, the seeds against the reference, namespace gaps."""

from __future__ import annotations

import numpy as np
import pytest

from backends import load
from conformance.catalog import find
from conformance.harness import check
from conformance.results import Status
from conformance.spec import Spec

BACKENDS = ["theano", "pytensor"]
RNG = np.random.default_rng(12)
RTOL = {"float64": 1e-10, "float32": 1e-4}


def quartic(xp, x, w):
    """sum(x^4) + x . (w @ x): gradient 4x^3 + (w + w^T) x, Hessian diag(12 x^2) + w + w^T."""
    return xp.sum(x**4) + x @ (w @ x)


def squashed(xp, x, w):
    """tanh(w @ x): Jacobian (1 - tanh^2)[:, None] * w w.r.t. x."""
    return xp.tanh(w @ x)


def _arrays() -> dict[str, np.ndarray]:
    return {"x": RNG.uniform(-1, 1, size=4), "w": RNG.normal(size=(4, 4)) * 0.3}


def _jacobian(x: np.ndarray, w: np.ndarray) -> np.ndarray:
    return (1 - np.tanh(w @ x) ** 2)[:, None] * w


def _expected(kind: str, arrays: dict[str, np.ndarray], direction: np.ndarray) -> np.ndarray:
    """The analytic derivative w.r.t. x of the spec built by :func:`_spec`."""
    x, w = arrays["x"], arrays["w"]
    return {
        "grad": 4 * x**3 + (w + w.T) @ x,
        "hvp": (np.diag(12 * x**2) + w + w.T) @ direction,
        "jacobian": _jacobian(x, w),
        "jvp": _jacobian(x, w) @ direction,
        "vjp": direction @ _jacobian(x, w),
    }[kind]


def _spec(kind: str, dtype: str, direction: np.ndarray) -> Spec:
    fn = quartic if kind in ("grad", "hvp") else squashed
    directions = ({"tangents": {"x": direction}} if kind in ("jvp", "hvp")
                  else {"cotangent": direction} if kind == "vjp" else {})
    return Spec(f"analytic-{kind}", fn, _arrays(), ("x",), kind=kind, dtype=dtype,
                roles={"w": "param"}, **directions)


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("kind", ["grad", "jacobian", "jvp", "vjp", "hvp"])
@pytest.mark.parametrize("backend_name", BACKENDS)
def test_every_kind_matches_the_analytic_derivative_on_new_arrays(backend,
        backend_name: str, kind: str, dtype: str) -> None:
    backend(backend_name)
    direction = RNG.normal(size=4)
    spec = _spec(kind, dtype, direction)
    program = load(backend_name).prepare(spec)
    for arrays in (spec.arrays, _arrays(), _arrays()):  # one compiled program, new values
        out = program(spec.cast(arrays))
        assert out["x"].dtype == np.dtype(dtype), f"{kind} came back {out['x'].dtype}"
        assert out["value"].dtype == np.dtype(dtype)
        np.testing.assert_allclose(out["value"], spec.fn(np, **arrays), rtol=RTOL[dtype])
        np.testing.assert_allclose(out["x"], _expected(kind, arrays, direction),
                                   rtol=RTOL[dtype], atol=RTOL[dtype])


@pytest.mark.parametrize("backend_name", BACKENDS)
@pytest.mark.parametrize("spec_name", [
    "seed003-output-wrt-weights-float64", "seed003-output-jacobian-wrt-input-float64",
    "seed003-output-jacobian-wrt-input-float32", "seed002-hypergradient-small-float64",
    "seed004-two-input-grad-float32", "logsumexp-float32"])
def test_seed_and_starter_cases_pass_against_the_reference(backend, backend_name: str,
                                                           spec_name: str) -> None:
    """Model specs run as graphs (seed 003's Jacobian through gradient.jacobian); seed 002's
    hypergradient differentiates through the framework's own grad; probes included."""
    backend(backend_name)
    result = check(find(spec_name), load(backend_name))
    assert result.status is Status.PASS, f"{spec_name} on {backend_name}: {result.message}"


@pytest.mark.parametrize("backend_name", BACKENDS)
def test_a_name_the_namespace_lacks_is_unsupported_and_named(backend, backend_name: str) -> None:
    backend(backend_name)
    spec = Spec("sinc", lambda xp, x: xp.sum(xp.sinc(x)), {"x": np.linspace(0.1, 1, 3)}, ("x",))
    result = check(spec, load(backend_name))
    assert result.status is Status.UNSUPPORTED
    assert "xp.sinc" in result.message and backend_name in result.message


@pytest.mark.parametrize("backend_name", BACKENDS)
def test_a_disconnected_input_gets_a_zero_gradient(backend, backend_name: str) -> None:
    backend(backend_name)
    spec = Spec("unused-w", lambda xp, x, w: xp.sum(x**2), {"x": np.arange(1.0, 4.0),
                                                           "w": np.ones(2)}, ("x", "w"))
    out = load(backend_name).prepare(spec)(spec.cast())
    np.testing.assert_array_equal(out["w"], np.zeros(2))
    np.testing.assert_allclose(out["x"], 2 * np.arange(1.0, 4.0))


def test_theano_flags_are_added_before_import_and_the_users_own_win(monkeypatch) -> None:
    """No Theano needed: the flags the adapter sets, and that it never overrides the user's."""
    from backends.theano_backend import theano_flags

    monkeypatch.setenv("XDG_CACHE_HOME", "/cache")
    assert theano_flags("") == "blas.ldflags=,base_compiledir=/cache/gradparity/theano"
    assert theano_flags("floatX=float32,blas.ldflags=-lopenblas") == (
        "floatX=float32,blas.ldflags=-lopenblas,base_compiledir=/cache/gradparity/theano")
    assert theano_flags("compiledir=/mine") == "compiledir=/mine,blas.ldflags="


@pytest.mark.parametrize("name", ["half", "long", "b1"])
def test_an_input_named_like_a_numpy_dtype_is_just_a_name(backend, name) -> None:
    # pytensor's tensor(name=...) takes such names for a dtype given by mistake and raises
    pytensor = backend("pytensor")
    spec = Spec(f"input-named-{name}", lambda xp, **a: xp.sum(xp.sin(a[name]) * a["w"]),
                {name: np.array([0.3, -1.2]), "w": np.array([2.0, 0.5])}, (name, "w"))
    result = check(spec, pytensor)
    assert result.status is Status.PASS, result.message
