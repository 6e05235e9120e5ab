"""The loop operator ``scan``: the Python form against closed forms, every backend's own
construct against analytic derivatives and the float64 reference, for every kind."""

from __future__ import annotations

import importlib.util

import numpy as np
import pytest

from backends import load
from conformance.harness import check
from conformance.loops import leaves, python_scan, rebuild
from conformance.results import Status
from conformance.spec import Spec, SpecError

#: The backends that map scan to their own construct (theano-like ones refuse it).
BACKENDS = ["autograd", "jax", "tf-eager", "tf-graph"]
RNG = np.random.default_rng(7)
W, H0, XS = RNG.uniform(-0.9, 0.9, size=3), RNG.normal(size=3), RNG.normal(size=(6, 3))


def linear_recurrence(xp, scan, w, h0, xs):
    """h_t = w * h_{t-1} + x_t; the sum of every h_t."""
    def step(h, x):
        h = w * h + x
        return h, h
    _, hs = scan(step, h0, xs)
    return xp.sum(hs)


def analytic_gradient_xs(w: np.ndarray, steps: int) -> np.ndarray:
    """d/dx_t sum_s h_s = sum_{s >= t} w^(s - t), per element."""
    return np.stack([sum(w ** (s - t) for s in range(t, steps)) for t in range(steps)])


def tree_step_fn(xp, scan, w, h0, xs, zs):
    """A dict carry, a tuple of xs, a tuple of ys: the structures scan must keep."""
    def step(carry, pair):
        x, z = pair
        h = xp.tanh(carry["h"] * w + x * z)
        return {"h": h, "n": carry["n"] + xp.sum(h)}, (h**2, xp.sum(h * z))
    carry, (squares, sums) = scan(step, {"h": h0, "n": xp.sum(h0) * 0}, (xs, zs))
    return xp.sum(squares) + xp.sum(sums) * carry["n"] + xp.sum(carry["h"])


def tree_output_fn(xp, scan, w, h0, xs, zs):
    """The same loop, its stacked hidden states as the output (for jacobian, jvp, vjp)."""
    def step(h, pair):
        x, z = pair
        h = xp.tanh(h * w + x * z)
        return h, h
    return scan(step, h0, (xs, zs))[1]


def tree_spec(kind: str, steps: int = 5) -> Spec:
    arrays = {"w": RNG.normal(size=3), "h0": RNG.normal(size=3),
              "xs": RNG.normal(size=(steps, 3)), "zs": RNG.normal(size=(steps, 3))}
    wrt = ("w", "xs")
    extra: dict = {}
    if kind in ("jvp", "hvp"):
        extra["tangents"] = {n: RNG.normal(size=arrays[n].shape) for n in wrt}
    if kind == "vjp":
        extra["cotangent"] = RNG.normal(size=(steps, 3))
    fn = tree_step_fn if kind in ("grad", "hvp") else tree_output_fn
    return Spec(f"scan-tree-{kind}-{steps}", fn, arrays, wrt, kind=kind, uses_scan=True, **extra)


def test_python_scan_matches_the_closed_form_of_a_linear_recurrence() -> None:
    scan = python_scan(np)
    final, hs = scan(lambda h, x: (W * h + x, W * h + x), H0, XS)
    expected = [H0]
    for x in XS:
        expected.append(W * expected[-1] + x)
    assert np.allclose(hs, np.stack(expected[1:])) and np.allclose(final, expected[-1])
    assert hs.shape == (6, 3)


def test_python_scan_keeps_trees_and_allows_no_ys() -> None:
    scan = python_scan(np)
    carry, ys = scan(lambda c, p: ({"a": c["a"] + p[0], "b": c["b"] * p[1]},
                                   [p[0], {"z": p[1] * 2}]),
                     {"a": 0.0, "b": 1.0}, (np.arange(4.0), np.arange(1.0, 5.0)))
    assert carry == {"a": 6.0, "b": 24.0}
    assert np.array_equal(ys[0], np.arange(4.0)) and np.array_equal(ys[1]["z"],
                                                                     2 * np.arange(1.0, 5.0))
    total, none = scan(lambda c, x: (c + x, None), 0.0, np.arange(5.0))
    assert total == 10.0 and none is None
    tree = {"b": [1, (2, 3)], "a": 4}
    assert leaves(tree) == [4, 1, 2, 3] and rebuild(tree, [40, 10, 20, 30]) == {
        "b": [10, (20, 30)], "a": 40}
    with pytest.raises(ValueError, match="no array"):
        scan(lambda c, x: (c, x), 0.0, ())


def test_the_reference_runs_scan_as_a_python_loop_over_numpy() -> None:
    spec = Spec("linear", linear_recurrence, {"w": W, "h0": H0, "xs": XS}, ("xs",),
                uses_scan=True)
    hs, h = [], H0
    for x in XS:
        h = W * h + x
        hs.append(h)
    assert np.isclose(spec.evaluate(np, spec.arrays), np.sum(hs))


def test_scan_is_a_reserved_array_name() -> None:
    with pytest.raises(SpecError, match="reserved"):
        Spec("bad", lambda xp, scan: xp.sum(scan), {"scan": np.ones(2)}, ("scan",))


@pytest.mark.parametrize("backend_name", BACKENDS)
def test_each_backends_scan_gives_the_analytic_gradient(backend, backend_name: str) -> None:
    backend(backend_name)
    spec = Spec("linear-scan", linear_recurrence, {"w": W, "h0": H0, "xs": XS}, ("xs", "h0"),
                uses_scan=True)
    out = load(backend_name).prepare(spec)(spec.cast())
    assert np.allclose(out["xs"], analytic_gradient_xs(W, len(XS)), rtol=1e-12)
    assert np.allclose(out["h0"], sum(W ** (s + 1) for s in range(len(XS))), rtol=1e-12)


@pytest.mark.parametrize("kind", ["grad", "jacobian", "jvp", "vjp", "hvp"])
@pytest.mark.parametrize("backend_name", BACKENDS)
def test_each_backends_scan_passes_every_kind_against_the_reference(backend,
        backend_name: str, kind: str) -> None:
    backend(backend_name)
    for spec in (tree_spec(kind), tree_spec(kind).as_dtype("float32")):
        result = check(spec, load(backend_name))
        assert result.status is Status.PASS, f"{spec.name} on {backend_name}: {result.message}"


@pytest.mark.parametrize("backend_name", BACKENDS)
def test_a_one_step_scan_and_a_scan_without_ys(backend, backend_name: str) -> None:
    backend(backend_name)

    def no_ys(xp, scan, w, xs):
        final, ys = scan(lambda c, x: (xp.sin(c * w + x), None), w * 0, xs)
        assert ys is None
        return xp.sum(final)

    specs = [tree_spec("grad", steps=1),
             Spec("scan-no-ys", no_ys, {"w": W, "xs": XS}, ("w", "xs"), uses_scan=True)]
    for spec in specs:
        result = check(spec, load(backend_name))
        assert result.status is Status.PASS, f"{spec.name} on {backend_name}: {result.message}"


@pytest.mark.parametrize("backend_name", ["pytensor", "theano"])
def test_backends_with_symbolic_lengths_say_scan_is_unsupported(backend_name: str) -> None:
    if importlib.util.find_spec(backend_name) is None:  # importing theano bare breaks it
        pytest.skip(f"{backend_name} is not installed")
    backend = load(backend_name)
    reason = backend.unsupported_reason(tree_spec("grad"))
    assert reason and reason.startswith(f"{backend_name} does not map scan yet")
    assert backend.unsupported_reason(Spec("plain", lambda xp, x: xp.sum(x), {"x": W}, ("x",))) \
        is None
