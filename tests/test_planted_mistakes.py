"""Every planted mistake is reported with exactly its own diagnosis code."""

from __future__ import annotations

import numpy as np
import planted_mistakes as planted
import pytest

from conformance.catalog.starter import starter_specs
from conformance.harness import check
from conformance.model import Activation, BatchNormalization, Dense, Dropout, ModelSpec
from conformance.results import Status
from conformance.spec import Spec

rng = np.random.default_rng(1)
STARTER = {s.name: s for s in starter_specs()}
MLP_LOSS = STARTER["mlp-tanh-loss-wrt-inputs-float64"]


def seed001_like() -> Spec:
    """Seed 001's 1-32-32-1 ReLU network with fixed 'trained' weights, at x = 0.2 and 0.6."""
    weights = [rng.normal(size=(1, 32)), rng.normal(size=32) * 0.1,
               rng.normal(size=(32, 32)) / 5, rng.normal(size=32) * 0.1,
               rng.normal(size=(32, 1)) / 5, rng.normal(size=1) * 0.1]
    model = ModelSpec([Dense(32, "relu"), Dense(32, "relu"), Dense(1)], input_dim=1,
                      weights=weights, objective="sum")
    return model.spec("planted-seed001", {"x": np.array([[0.2], [0.6]])}, "x")


def seed000_like() -> Spec:
    """Seed 000's classifier with Dropout: cross-entropy with sample weights, w.r.t. inputs."""
    weights = [rng.normal(size=(4, 8)) / 2, rng.normal(size=8) * 0.1,
               rng.normal(size=(8, 3)) / 2, rng.normal(size=3) * 0.1]
    model = ModelSpec([Dense(8, "relu"), Dropout(0.5), Dense(3, "softmax")], input_dim=4,
                      weights=weights, objective="categorical_crossentropy")
    return model.spec("planted-seed000", {"x": rng.normal(size=(5, 4))}, "x",
                      targets={"y": np.eye(3)[[0, 2, 1, 1, 0]],
                               "sample_weight": np.ones(5)})


def where_sqrt() -> Spec:
    def safe(xp, x):  # the double-where trick: finite derivative everywhere
        return xp.sum(xp.where(x > 0, xp.sqrt(xp.where(x > 0, x, 1.0)), 0.0))
    return Spec("planted-where-sqrt", safe, {"x": np.array([-1.0, 0.5, -0.3, 2.0])}, ("x",))


def relu_at_zero() -> Spec:
    return Spec("planted-relu-at-zero", lambda xp, x, w: xp.sum(xp.maximum(x, 0.0) * w),
                {"x": np.array([-1.0, 0.0, 0.5, 0.0]), "w": np.array([1.0, 2.0, 3.0, 4.0])},
                ("x",), roles={"w": "param"})


def batchnorm_mlp() -> Spec:
    """An MLP with BatchNormalization in inference mode: cross-entropy w.r.t. the inputs."""
    layers = (Dense(8, use_bias=False), BatchNormalization(), Activation("tanh"),
              Dense(3, "softmax"))
    weights = [rng.normal(size=(4, 8)) / 2, rng.uniform(0.8, 1.2, 8), rng.normal(size=8) * 0.1,
               rng.normal(size=8), rng.uniform(0.5, 2.0, 8), rng.normal(size=(8, 3)) / 2,
               rng.normal(size=3) * 0.1]
    model = ModelSpec(layers, 4, weights, objective="categorical_crossentropy")
    return model.spec("planted-batchnorm", {"x": rng.normal(size=(6, 4))}, "x",
                      targets={"y": np.eye(3)[[0, 2, 1, 1, 0, 2]]})


GALLERY = [
    ("stale-session", planted.StaleSession, seed001_like, "tf-graph"),
    ("stale-session", planted.StaleSession, lambda: seed001_like().as_dtype("float32"),
     "tf-graph"),
    ("learning-phase", planted.LearningPhaseOn, seed000_like, "tf-graph"),
    ("learning-phase", planted.BatchNormTraining, batchnorm_mlp, "tf-eager"),
    ("eager-gradients", planted.EagerKGradients, seed001_like, "tf-eager"),
    ("unwatched-input", planted.UnwatchedTensor, lambda: MLP_LOSS, "tf-eager"),
    ("disconnected", planted.NumpyRoundTrip, lambda: MLP_LOSS, "tf-eager"),
    ("graph-growth", planted.GraphPerCall, lambda: MLP_LOSS, "tf-graph"),
    ("retracing", planted.FunctionPerCall, lambda: MLP_LOSS, "tf-eager"),
    ("nan-gradient", planted.NaiveWhere, where_sqrt, "jax"),
    ("kink", planted.ReluKink, relu_at_zero, "jax"),
    ("wrong-reduction", planted.SumInsteadOfMean, lambda: MLP_LOSS, "jax"),
    ("shape-mismatch", planted.TransposedJacobian,
     lambda: STARTER["vector-jacobian-float64"], "jax"),
    ("dtype-downcast", planted.Float32Inside, lambda: MLP_LOSS, "jax"),
    ("nondeterministic", planted.NoisyInputs, lambda: MLP_LOSS, "jax"),
]


@pytest.mark.parametrize(("code", "planted", "make_spec", "framework"), GALLERY,
                         ids=[f"{g[0]}-{i}" for i, g in enumerate(GALLERY)])
def test_planted_mistake_gets_exactly_its_code(backend, code, planted, make_spec, framework
                                               ) -> None:
    backend(framework)
    result = check(make_spec(), planted())
    expected_status = Status.CONVENTION if code == "kink" else Status.FAIL
    assert (result.status, result.diagnoses) == (expected_status, [code]), (
        f"{planted.name}: expected {expected_status.value} [{code}], got "
        f"{result.status.value} {result.diagnoses}: {result.message}")


def test_every_diagnosis_has_a_planted_mistake() -> None:
    from conformance.diagnoses import DIAGNOSES

    assert {g[0] for g in GALLERY} == set(DIAGNOSES)


@pytest.mark.parametrize("correct", ["jax", "autograd"])
def test_correct_adapters_on_the_gallery_specs_pass(backend, correct: str) -> None:
    backend(correct)
    from backends import load

    for make_spec in {g[2] for g in GALLERY if g[2] not in (seed000_like, seed001_like)}:
        result = check(make_spec(), load(correct))
        # at relu's kink every valid choice is a CONVENTION, the reference's (0.5) included
        expected = (Status.CONVENTION, ["kink"]) if make_spec is relu_at_zero \
            else (Status.PASS, [])
        assert (result.status, result.diagnoses) == expected, \
            f"{correct} on {make_spec().name}: {result.message}"
