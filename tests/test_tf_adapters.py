"""The tf-eager and tf-graph adapters against the float64 reference, and their promises:
the graph is built once (no ops added per call), the tf.function is traced once, the weights
supplied at each call are the ones used, and a missing namespace name is UNSUPPORTED."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from collections.abc import Callable

import numpy as np
import pytest

if importlib.util.find_spec("tensorflow") is None or importlib.util.find_spec("tf_keras") is None:
    pytest.skip("the TF adapters need tensorflow and tf-keras (pip install 'gradparity[tf]')",
                allow_module_level=True)

from backends.base import Backend, Program
from backends.tf_eager import TFEagerBackend
from backends.tf_graph import TFGraphBackend
from conformance.catalog.starter import starter_specs
from conformance.model import Dense, Dropout, ModelSpec
from conformance.reference import compute_reference
from conformance.spec import Spec, derivative_shape

BACKENDS: dict[str, Backend] = {"tf-eager": TFEagerBackend(), "tf-graph": TFGraphBackend()}
#: Normwise tolerance: max |answer - reference| relative to max |reference|.
TOLERANCE = {"float64": 1e-6, "float32": 1e-3}


def relative_error(spec: Spec, output: dict, arrays: dict | None = None, **reference_options
                   ) -> float:
    """The answer's largest error against the float64 reference, relative to its size."""
    reference = compute_reference(spec, arrays, **reference_options)
    worst = 0.0
    for name in spec.wrt:
        assert output[name].shape == derivative_shape(spec, name, reference.value.shape)
        assert output[name].dtype == np.dtype(spec.dtype)
        got = reference.observe(spec, name, output[name])
        worst = max(worst, np.max(np.abs(got - reference.expected[name]))
                    / np.max(np.abs(reference.expected[name])))
    return worst


@pytest.fixture(scope="module")
def prepared() -> Callable[[str, Spec], Program]:
    """Programs built once per (backend, spec) for the whole module."""
    cache: dict[tuple[str, int], Program] = {}

    def get(backend_name: str, spec: Spec) -> Program:
        key = (backend_name, id(spec))
        if key not in cache:
            cache[key] = BACKENDS[backend_name].prepare(spec)
        return cache[key]
    return get


def _model_specs() -> list[Spec]:
    rng = np.random.default_rng(11)
    layers = (Dense(5, "tanh"), Dropout(0.5), Dense(3, "softmax"))
    weights = [rng.normal(size=s) for s in [(4, 5), (5,), (5, 3), (3,)]]
    x = rng.normal(size=(6, 4))
    targets = {"y": np.eye(3)[[0, 1, 2, 2, 1, 0]], "sample_weight": rng.uniform(0.5, 2, 6)}
    both = ("x", "dense_0_kernel")

    def model(objective: str) -> ModelSpec:
        return ModelSpec(layers, 4, weights, objective=objective)

    def shaped(name: str) -> tuple[int, ...]:
        return x.shape if name == "x" else (4, 5)

    specs = [
        model("categorical_crossentropy").spec("keras-ce-grad", {"x": x}, both, targets=targets),
        model("mse").spec("keras-mse-grad", {"x": x}, both, targets={"y": targets["y"]}),
        model("mse").spec("keras-mse-hvp", {"x": x}, both, kind="hvp", targets=targets,
                          tangents={n: rng.normal(size=shaped(n)) for n in both}),
        model("output").spec("keras-jacobian", {"x": x[:2]}, both, kind="jacobian"),
        model("output").spec("keras-jvp", {"x": x}, both, kind="jvp",
                             tangents={n: rng.normal(size=shaped(n)) for n in both}),
        model("output").spec("keras-vjp", {"x": x}, ("x", "dense_1_bias"), kind="vjp",
                             cotangent=rng.normal(size=(6, 3))),
        ModelSpec((Dense(2, "tanh"), Dense(1)), 3, [rng.normal(size=s) for s in
                                                    [(3, 2), (2,), (2, 1), (1,)]],
                  head=(("add", 1.0), ("multiply", "scale")), objective="sum").spec(
            "keras-head-grad", {"x": x[:, :3], "scale": rng.uniform(1, 2, (6, 1))},
            ("x", "scale", "dense_1_kernel")),
    ]
    return [s.as_dtype(d) for s in specs for d in ("float64", "float32")]


MODEL_SPECS = _model_specs()
STARTER = starter_specs()


@pytest.mark.parametrize("backend_name", BACKENDS)
@pytest.mark.parametrize("spec", MODEL_SPECS, ids=[s.name for s in MODEL_SPECS])
def test_model_spec_every_kind(prepared, backend_name: str, spec: Spec) -> None:
    output = prepared(backend_name, spec)(spec.cast())
    assert relative_error(spec, output) <= TOLERANCE[spec.dtype]


@pytest.mark.parametrize("backend_name", BACKENDS)
@pytest.mark.parametrize("spec", STARTER, ids=[s.name for s in STARTER])
def test_starter_catalog(prepared, backend_name: str, spec: Spec) -> None:
    assert BACKENDS[backend_name].unsupported_reason(spec) is None
    output = prepared(backend_name, spec)(spec.cast())
    assert relative_error(spec, output) <= TOLERANCE[spec.dtype]


def _moved(spec: Spec, seed: int) -> dict[str, np.ndarray]:
    """The spec's arrays with inputs and weights moved (targets kept)."""
    rng = np.random.default_rng(seed)
    return {n: a if spec.roles[n] == "target" else a + 0.1 * rng.standard_normal(a.shape)
            for n, a in spec.arrays.items()}


@pytest.mark.parametrize("backend_name", BACKENDS)
@pytest.mark.parametrize("spec", [MODEL_SPECS[0], MODEL_SPECS[4]], ids=lambda s: s.name)
def test_new_weights_are_used_at_every_call(prepared, backend_name: str, spec: Spec) -> None:
    program = prepared(backend_name, spec)
    for seed in (1, 2):
        arrays = _moved(spec, seed)
        assert relative_error(spec, program(spec.cast(arrays)), arrays) <= 1e-6


def test_graph_is_built_once_and_adds_no_ops(prepared) -> None:
    for spec in (MODEL_SPECS[0], MODEL_SPECS[2], STARTER[0]):
        program = prepared("tf-graph", spec)
        counts = []
        for seed in (1, 2, 3):
            program(spec.cast(_moved(spec, seed)))
            counts.append(program.graph_op_count())
        assert counts[0] == counts[-1] > 0, spec.name
        assert program.graph.finalized


def test_graph_program_reads_back_the_weights_it_used(prepared) -> None:
    spec = MODEL_SPECS[0]
    arrays = spec.cast(_moved(spec, 5))
    program = prepared("tf-graph", spec)
    program(arrays)
    used = program.weights_in_use()
    assert set(used) == set(spec.params)
    assert all(np.array_equal(used[n], arrays[n]) for n in spec.params)


def test_eager_traces_once(prepared) -> None:
    for spec in (MODEL_SPECS[0], MODEL_SPECS[6], STARTER[-1]):
        program = prepared("tf-eager", spec)
        for seed in (1, 2, 3):
            program(spec.cast(_moved(spec, seed)))
        assert program.trace_count() == 1, spec.name


def _median_sum(xp, a):
    return xp.sum(xp.median(a @ a.T, axis=0))


def _solve_norm(xp, a, b):
    return xp.linalg.norm(xp.linalg.solve(a @ a.T + 3 * xp.eye(3), b))


@pytest.mark.parametrize("backend_name", BACKENDS)
def test_missing_namespace_names_are_unsupported_and_linalg_is_supplied(backend_name: str) -> None:
    rng = np.random.default_rng(3)
    backend = BACKENDS[backend_name]
    median = Spec("median", _median_sum, {"a": rng.normal(size=(3, 3))}, ("a",))
    assert "xp.median" in backend.unsupported_reason(median)
    solve = Spec("solve", _solve_norm, {"a": rng.normal(size=(3, 3)), "b": rng.normal(size=3)},
                 ("a", "b"))
    assert backend.unsupported_reason(solve) is None
    assert relative_error(solve, backend.prepare(solve)(solve.cast())) <= 1e-6


def test_tensorflow_imported_with_keras_3_is_reported_with_the_fix() -> None:
    script = ("import tensorflow as tf; tf.keras.__name__\n"
              "from backends import _tf\n"
              "try:\n    _tf.tensorflow()\nexcept _tf.Keras3Error as e:\n    print('KERAS3', e)\n")
    env = {k: v for k, v in os.environ.items() if k != "TF_USE_LEGACY_KERAS"}
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          env={**env, "PYTHONPATH": os.getcwd()}, timeout=120)
    assert "KERAS3" in done.stdout, done.stderr[-2000:]
    assert "TF_USE_LEGACY_KERAS=1" in done.stdout
