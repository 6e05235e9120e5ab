"""The seed catalog: faithful to its documents, kink-free for the reference, and computed
right by both TF adapters (each seed model built as a real tf_keras model)."""

from __future__ import annotations

import importlib.util

import numpy as np
import pytest

from conformance.catalog.seeds import hypergradient, seed_specs, train_gradient_by_hand
from conformance.differences import numeric_grad
from conformance.reference import compute_reference
from conformance.spec import Spec

SEEDS = {s.name: s for s in seed_specs()}
#: Above this many scalars in wrt, tests use the reference's directional checks (seed002's 784).
FULL_LIMIT = 100
needs_tf = pytest.mark.skipif(
    importlib.util.find_spec("tensorflow") is None or importlib.util.find_spec("tf_keras") is None,
    reason="the TF adapters need tensorflow and tf-keras (pip install 'gradparity[tf]')")


def test_every_seed_document_has_cases_in_both_dtypes() -> None:
    prefixes = {name[:7] for name in SEEDS}
    assert prefixes == {f"seed00{i}" for i in range(5)}
    for name in SEEDS:
        assert name.removesuffix("-float64") + "-float32" in SEEDS or name.endswith("-float32")
    assert {s.kind for s in SEEDS.values()} == {"grad", "jacobian"}


@pytest.mark.parametrize("name", [n for n in SEEDS if SEEDS[n].wrt_size <= FULL_LIMIT])
def test_reference_has_no_kink_within_its_steps(name: str) -> None:
    spec = SEEDS[name]
    reference = compute_reference(spec)
    for key in spec.wrt:
        scale = np.max(np.abs(reference.expected[key]))
        assert np.max(reference.uncertainty[key]) <= 1e-7 * scale, key


def test_seed002_hand_written_inner_gradient_matches_numeric_inner_gradient() -> None:
    spec = SEEDS["seed002-hypergradient-small-float64"]
    arrays = dict(spec.arrays)
    train_model = spec.fn.keywords["train_model"]
    params = [arrays[n] for n in train_model.weight_names]

    def train_loss(p, x):
        weights = dict(zip(train_model.weight_names, p, strict=True))
        return train_model.apply(np, x=x, y=arrays["y_train"], **weights)

    by_hand = train_gradient_by_hand(train_model, params, arrays["x_train"], arrays["y_train"])
    numeric = numeric_grad(train_loss)(params, arrays["x_train"])
    for ours, theirs in zip(by_hand, numeric, strict=True):
        assert np.allclose(ours, theirs, rtol=1e-7, atol=1e-10)
    for shift in (0.0, 0.3):
        moved = {**arrays, "x_train": arrays["x_train"] + shift}
        assert np.isclose(spec.reference_fn(np, **moved),
                          spec.fn(np, grad=numeric_grad, **moved), rtol=1e-10)
    assert spec.fn.func is hypergradient


def _run(backend_name: str, spec: Spec) -> dict[str, np.ndarray]:
    from backends import load

    return load(backend_name).prepare(spec)(spec.cast())


@needs_tf
@pytest.mark.parametrize("backend_name", ["tf-eager", "tf-graph"])
@pytest.mark.parametrize("name", list(SEEDS))
def test_tf_adapters_match_the_reference_on_every_seed(backend_name: str, name: str) -> None:
    spec = SEEDS[name]
    output = _run(backend_name, spec)
    reference = compute_reference(spec, full_limit=FULL_LIMIT)
    assert np.allclose(output["value"], reference.value, rtol=1e-6 if spec.dtype == "float64"
                       else 1e-4)
    tolerance = 1e-6 if spec.dtype == "float64" else 1e-3
    for key in spec.wrt:
        error = np.abs(reference.observe(spec, key, output[key]) - reference.expected[key])
        assert np.max(error) <= tolerance * np.max(np.abs(reference.expected[key])), key


@needs_tf
@pytest.mark.parametrize("backend_name", ["tf-eager", "tf-graph"])
def test_seed001_gradient_depends_on_x(backend_name: str) -> None:
    """The point of seed 001: trained weights give different slopes at 0.2 and 0.6,
    following the fitted curve's derivative 8 (x - 0.5)."""
    slopes = {}
    for x in (0.2, 0.6):
        spec = SEEDS[f"seed001-output-wrt-input-at-{x}-float64"]
        slopes[x] = float(_run(backend_name, spec)["x"][0, 0])
        assert np.isclose(slopes[x], compute_reference(spec).expected["x"][0, 0], rtol=1e-6)
        assert abs(slopes[x] - 8 * (x - 0.5)) < 0.3
    assert slopes[0.2] < 0 < slopes[0.6]


@needs_tf
@pytest.mark.parametrize("backend_name", ["tf-eager", "tf-graph"])
def test_seed004_matches_the_analytic_gradient(backend_name: str) -> None:
    spec = SEEDS["seed004-two-input-grad-float64"]
    x, prices = spec.arrays["x"], spec.arrays["reference_prices"]
    output = _run(backend_name, spec)
    assert np.allclose(output["x"], 0.1 * prices * np.ones_like(x), rtol=1e-12)
    assert np.allclose(output["reference_prices"], x @ np.full((2, 1), 0.1) + 1, rtol=1e-12)
