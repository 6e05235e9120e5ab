"""Model specs: the compiled math, validation, and the round trip from a real tf_keras model."""

from __future__ import annotations

import importlib.util

import numpy as np
import pytest

from backends import load
from conformance.model import Activation, Dense, Dropout, Layer, ModelSpec, weight_shapes
from conformance.reference import compute_reference
from conformance.spec import SpecError

RNG = np.random.default_rng(7)
LAYERS = (Dense(5, "tanh"), Dropout(0.5), Activation("sigmoid"), Dense(3, "softmax"))
WEIGHTS = [RNG.normal(size=s) for s in [(4, 5), (5,), (5, 3), (3,)]]
X = RNG.normal(size=(6, 4))
Y = np.eye(3)[[0, 1, 2, 0, 1, 2]]
SAMPLE_WEIGHT = RNG.uniform(0.5, 2.0, size=6)


def _hand_forward(x: np.ndarray) -> np.ndarray:
    k0, b0, k1, b1 = WEIGHTS
    h = 1 / (1 + np.exp(-np.tanh(x @ k0 + b0)))
    z = h @ k1 + b1
    return np.exp(z) / np.exp(z).sum(axis=-1, keepdims=True)


def test_weight_names_are_identifiers_in_keras_order() -> None:
    model = ModelSpec(LAYERS, 4, WEIGHTS)
    assert model.weight_names == ("dense_0_kernel", "dense_0_bias", "dense_1_kernel",
                                  "dense_1_bias")
    assert [layer.name for layer in model.layers] == ["dense_0", "dropout_0", "activation_0",
                                                      "dense_1"]
    assert weight_shapes(LAYERS, 4) == {
        n: w.shape for n, w in zip(model.weight_names, WEIGHTS, strict=True)}


def test_output_and_losses_match_hand_written_numpy() -> None:
    out = _hand_forward(X)
    model = ModelSpec(LAYERS, 4, WEIGHTS)
    assert np.allclose(model.spec("o", {"x": X}, "x", kind="jacobian").evaluate(np, {
        "x": X, **model.weights}), out)
    ce = ModelSpec(LAYERS, 4, WEIGHTS, objective="categorical_crossentropy")
    spec = ce.spec("ce", {"x": X}, "x", targets={"y": Y, "sample_weight": SAMPLE_WEIGHT})
    expected = np.mean(SAMPLE_WEIGHT * -np.sum(Y * np.log(out), axis=-1))
    assert np.isclose(spec.evaluate(np, spec.arrays), expected, rtol=1e-12)
    mse = ModelSpec(LAYERS, 4, WEIGHTS, objective="mse").spec("mse", {"x": X}, "x",
                                                              targets={"y": Y})
    assert np.isclose(mse.evaluate(np, mse.arrays), np.mean((Y - out) ** 2), rtol=1e-12)
    assert spec.roles == {"x": "input", **{n: "param" for n in ce.weight_names},
                          "y": "target", "sample_weight": "target"}


def test_head_combines_inputs_like_seed_004() -> None:
    model = ModelSpec((Dense(1, name="output"),), 2, [np.full((2, 1), 0.1), np.zeros(1)],
                      head=(("add", 1.0), ("multiply", "prices")))
    prices = RNG.uniform(1, 2, size=(6, 1))
    x = X[:, :2]
    spec = model.spec("head", {"x": x, "prices": prices}, ("x", "prices"), kind="jacobian")
    assert np.allclose(spec.evaluate(np, spec.arrays), (x @ np.full((2, 1), 0.1) + 1) * prices)


@pytest.mark.parametrize("build, field", [
    (lambda: Layer("Conv3D", {"filters": 3}), "layers['Conv3D']"),
    (lambda: Layer("Conv2D", {"filters": 3}), "layers['Conv2D'].kernel_size"),
    (lambda: Dense(3, "swish"), "layers['Dense'].activation"),
    (lambda: Dense(0), "layers['Dense'].units"),
    (lambda: Dropout(1.5), "layers['Dropout'].rate"),
    (lambda: ModelSpec(LAYERS, 4, WEIGHTS, training=True), "training"),
    (lambda: ModelSpec(LAYERS, 4, WEIGHTS, objective="hinge"), "objective"),
    (lambda: ModelSpec(LAYERS, 4, WEIGHTS[:3]), "weights"),
    (lambda: ModelSpec(LAYERS, 4, [WEIGHTS[0].T, *WEIGHTS[1:]]), "weights['dense_0_kernel']"),
    (lambda: ModelSpec(LAYERS, 4, WEIGHTS, head=(("divide", 2.0),)), "head[0]"),
    (lambda: ModelSpec(LAYERS, 4, WEIGHTS).spec("s", {"x": X[:, :3]}, "x", kind="jacobian"),
     "inputs['x']"),
    (lambda: ModelSpec(LAYERS, 4, WEIGHTS, objective="mse").spec("s", {"x": X}, "x"), "targets"),
    (lambda: ModelSpec(LAYERS, 4, WEIGHTS).spec("s", {"x": X}, "bogus", kind="jacobian"), "wrt"),
])
def test_invalid_model_specs_raise_spec_error_naming_the_field(build, field: str) -> None:
    with pytest.raises(SpecError) as raised:
        build()
    assert raised.value.field == field


def test_training_mode_is_allowed_when_dropout_is_off() -> None:
    model = ModelSpec((Dense(2), Dropout(0.0), Dense(1)), 2,
                      [RNG.normal(size=s) for s in [(2, 2), (2,), (2, 1), (1,)]], training=True)
    assert model.training


@pytest.mark.parametrize("backend_name", ["jax", "autograd", "pytensor", "theano"])
def test_functional_backends_run_compiled_model_specs(backend, backend_name: str) -> None:
    backend(backend_name)
    model = ModelSpec(LAYERS, 4, WEIGHTS, objective="categorical_crossentropy")
    spec = model.spec("ce", {"x": X}, ("x", "dense_0_kernel"),
                      targets={"y": Y, "sample_weight": SAMPLE_WEIGHT})
    output = load(backend_name).prepare(spec)(spec.cast())
    reference = compute_reference(spec)
    for name in spec.wrt:
        error = np.max(np.abs(output[name] - reference.expected[name]))
        assert error <= 1e-6 * np.max(np.abs(reference.expected[name]))


@pytest.fixture(scope="module")
def tf():
    if not all(importlib.util.find_spec(m) for m in ("tensorflow", "tf_keras")):
        pytest.skip("from_keras round trips need tensorflow and tf-keras "
                    "(pip install 'gradparity[tf]')")
    from backends import _tf

    return _tf.tensorflow()


def test_from_keras_round_trips_a_real_sequential_model(tf) -> None:
    keras = tf.keras
    model = keras.Sequential([
        keras.Input(shape=(4,)), keras.layers.Dense(5, activation="tanh"),
        keras.layers.Dropout(0.5), keras.layers.Activation("sigmoid"),
        keras.layers.Dense(3, activation="softmax", name="probabilities")])
    model.set_weights([w.astype(np.float32) for w in WEIGHTS])
    spec_model = ModelSpec.from_keras(model)
    assert [(layer.class_name, layer.config) for layer in spec_model.layers] == [
        ("Dense", {"name": model.layers[0].name, "units": 5, "activation": "tanh",
                   "use_bias": True}),
        ("Dropout", {"name": model.layers[1].name, "rate": 0.5}),
        ("Activation", {"name": model.layers[2].name, "activation": "sigmoid"}),
        ("Dense", {"name": "probabilities", "units": 3, "activation": "softmax",
                   "use_bias": True})]
    assert spec_model.weight_names[-2:] == ("probabilities_kernel", "probabilities_bias")
    for ours, theirs in zip(spec_model.weights.values(), model.get_weights(), strict=True):
        assert np.array_equal(ours, theirs)
    spec = spec_model.spec("from-keras", {"x": X}, "x", kind="jacobian", dtype="float32")
    keras_output = model(X.astype(np.float32), training=False).numpy()
    assert np.allclose(spec.evaluate(np, spec.cast()), keras_output, rtol=1e-5, atol=1e-6)


def test_from_keras_reads_input_dim_from_the_first_layer(tf) -> None:
    model = tf.keras.Sequential([tf.keras.layers.Dense(3, input_dim=2, use_bias=False)])
    spec_model = ModelSpec.from_keras(model, objective="sum")
    assert spec_model.input_dim == 2
    assert spec_model.weight_names == (f"{model.layers[0].name}_kernel",)


def test_from_keras_names_an_unsupported_layer_and_the_supported_ones(tf) -> None:
    inputs = tf.keras.Input(shape=(6, 2))
    model = tf.keras.Model(inputs, tf.keras.layers.Conv1D(1, 3, name="conv1d_here")(inputs))
    with pytest.raises(SpecError) as raised:
        ModelSpec.from_keras(model)
    assert raised.value.field == "layers['conv1d_here']"
    assert "'Conv1D'" in raised.value.problem and "Conv2D, MaxPooling2D" in raised.value.fix
