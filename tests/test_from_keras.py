"""``ModelSpec.from_keras`` round trips: a Functional CNN with two inputs and an Embedding+LSTM
model, from tf-keras (in this process) and from Keras 3 (in a subprocess, since Keras 3 picks
its engine once per process). The spec read back computes what the Keras model computes.

Token ids: a model read from Keras takes integer ids as they are (an Embedding's input and the
sparse loss's labels get role ``index`` by themselves), and the gradient w.r.t. its weights
PASSes on real backends."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from conformance.api import check
from conformance.model import LSTM, Dense, Embedding, ModelSpec, weight_shapes
from conformance.results import Status
from conformance.spec import SpecError

#: Builds the two models with ``keras`` (tf.keras or Keras 3): the same code for both.
MODELS = textwrap.dedent('''
    def functional_cnn(keras, dtype):
        image = keras.Input(shape=(8, 8, 1), dtype=dtype, name="image")
        extra = keras.Input(shape=(3,), dtype=dtype, name="extra")
        h = keras.layers.Conv2D(2, 3, padding="same", activation="tanh", dtype=dtype)(image)
        h = keras.layers.MaxPooling2D(2, dtype=dtype)(h)
        h = keras.layers.Conv2D(2, 2, strides=2, dtype=dtype)(h)
        h = keras.layers.Flatten(dtype=dtype)(h)
        h = keras.layers.BatchNormalization(dtype=dtype)(h)
        e = keras.layers.Dense(8, activation="tanh", dtype=dtype)(extra)
        joined = keras.layers.Concatenate(dtype=dtype)([h, e])
        added = keras.layers.Add(dtype=dtype)([keras.layers.Dense(4, dtype=dtype)(joined),
                                               keras.layers.Dense(4, dtype=dtype)(e)])
        out = keras.layers.Dense(2, activation="softmax", dtype=dtype)(added)
        return keras.Model([image, extra], out)

    def lstm_model(keras, dtype):
        return keras.Sequential([
            keras.Input(shape=(5,), dtype=dtype),
            keras.layers.Embedding(11, 3, dtype=dtype),
            keras.layers.LSTM(4, return_sequences=True, dtype=dtype),
            keras.layers.GRU(3, dtype=dtype),
            keras.layers.LayerNormalization(dtype=dtype),
            keras.layers.Dense(2, dtype=dtype)])

    def token_classifier(keras):
        return keras.Sequential([
            keras.Input(shape=(6,), dtype="int32"),
            keras.layers.Embedding(20, 4),
            keras.layers.LSTM(5),
            keras.layers.Dense(3, activation="softmax")])

    def token_batch(seed):
        import numpy as np
        rng = np.random.default_rng(seed)
        return {"x": rng.integers(0, 20, size=(4, 6))}, {"y": rng.integers(0, 3, size=4)}

    def inputs(seed):
        import numpy as np
        rng = np.random.default_rng(seed)
        return ({"image": rng.normal(size=(3, 8, 8, 1)), "extra": rng.normal(size=(3, 3))},
                {"x": rng.integers(0, 11, size=(3, 5)).astype(float)})
''')
namespace: dict = {}
exec(MODELS, namespace)  # noqa: S102 - the builder source is shared with the Keras 3 subprocess


def _spec_outputs(model: ModelSpec, inputs: dict) -> np.ndarray:
    return model.forward(np, {**inputs, **model.weights})


@pytest.fixture(scope="module")
def tf():
    if not all(importlib.util.find_spec(m) for m in ("tensorflow", "tf_keras")):
        pytest.skip("tf-keras round trips need tensorflow and tf-keras "
                    "(pip install 'gradparity[tf]')")
    from backends import _tf

    return _tf.tensorflow()


def test_from_tf_keras_functional_cnn_and_lstm(tf) -> None:
    cnn_inputs, lstm_inputs = namespace["inputs"](5)
    for build, inputs in (("functional_cnn", cnn_inputs), ("lstm_model", lstm_inputs)):
        keras_model = namespace[build](tf.keras, "float64")
        model = ModelSpec.from_keras(keras_model)
        assert model.input_names == tuple(inputs)
        assert len(model.weight_names) == len(keras_model.get_weights())
        theirs = keras_model([inputs[n] for n in model.input_names]
                             if len(inputs) > 1 else inputs["x"], training=False).numpy()
        assert np.max(np.abs(_spec_outputs(model, inputs) - theirs)) < 1e-12


def test_from_keras_3_functional_cnn_and_lstm() -> None:
    if importlib.util.find_spec("keras") is None or importlib.util.find_spec("jax") is None:
        pytest.skip("Keras 3 round trips need keras and jax (pip install 'gradparity[keras,jax]')")
    code = MODELS + textwrap.dedent('''
        import json, sys
        import jax
        jax.config.update("jax_enable_x64", True)
        import keras
        import numpy as np
        from conformance.model import ModelSpec
        out = {}
        cnn_inputs, lstm_inputs = inputs(5)
        for build, arrays in (("functional_cnn", cnn_inputs), ("lstm_model", lstm_inputs)):
            keras_model = globals()[build](keras, "float32")
            model = ModelSpec.from_keras(keras_model)
            theirs = np.asarray(keras_model([arrays[n] for n in model.input_names]
                                            if len(arrays) > 1 else arrays["x"], training=False))
            ours = model.forward(np, {**arrays, **model.weights})
            out[build] = [list(model.input_names), len(model.weight_names),
                          len(keras_model.get_weights()),
                          float(np.max(np.abs(ours - theirs)) / np.max(np.abs(theirs)))]
        print(json.dumps(out))
    ''')
    env = {**os.environ, "KERAS_BACKEND": "jax", "PYTHONPATH": os.pathsep.join(sys.path)}
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env,
                          timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    found = json.loads(proc.stdout.strip().splitlines()[-1])
    assert found["functional_cnn"][0] == ["image", "extra"]
    assert found["lstm_model"][0] == ["x"]
    for _, ours, theirs, relative in found.values():
        assert ours == theirs
        assert relative < 1e-5  # the Keras 3 model runs in float32; the spec reads its weights


def _token_model(objective: str = "sparse_categorical_crossentropy") -> ModelSpec:
    layers = (Embedding(20, 4), LSTM(5), Dense(3, "softmax"))
    rng = np.random.default_rng(3)
    weights = {n: 0.3 * rng.normal(size=shape) for n, shape in weight_shapes(layers, (6,)).items()}
    return ModelSpec(layers, (6,), weights, objective=objective)


def test_integer_token_ids_and_labels_get_role_index_by_themselves() -> None:
    model = _token_model()
    ids, labels = namespace["token_batch"](0)
    spec = model.spec("ids", ids, model.trainable_names, targets=labels, dtype="float32")
    assert spec.roles["x"] == spec.roles["y"] == "index"
    assert {spec.roles[n] for n in model.weight_names} == {"param"}
    cast = spec.cast()
    assert cast["x"].dtype == ids["x"].dtype and cast["y"].dtype == labels["y"].dtype
    assert np.array_equal(cast["x"], ids["x"])
    whole = model.spec("floats", {"x": ids["x"].astype(float)}, model.trainable_names,
                       targets={"y": labels["y"].astype(float)})
    assert spec.evaluate(np, spec.arrays) == pytest.approx(whole.evaluate(np, whole.arrays))


@pytest.mark.parametrize(("objective", "inputs", "targets", "field"), [
    ("mse", {"x": np.ones((2, 3), dtype=np.int64)}, {"y": np.ones((2, 1))}, "inputs['x']"),
    ("mse", {"x": np.ones((2, 3))}, {"y": np.ones((2, 1), dtype=np.int32)}, "targets['y']"),
])
def test_an_integer_array_a_model_cannot_take_says_to_convert_it(objective, inputs, targets,
                                                                  field) -> None:
    model = ModelSpec((Dense(1),), 3, [np.ones((3, 1)), np.zeros(1)], objective=objective)
    with pytest.raises(SpecError) as raised:
        model.spec("ints", inputs, model.trainable_names, targets=targets)
    assert raised.value.field == field
    assert "roles" not in raised.value.fix  # ModelSpec.spec takes no roles=
    assert "np.asarray" in raised.value.fix


def test_tf_keras_token_classifier_gradient_wrt_weights_passes(tf, backend) -> None:
    backends = [backend("tf-eager"), backend("jax")]
    keras_model = namespace["token_classifier"](tf.keras)
    model = ModelSpec.from_keras(keras_model, objective="sparse_categorical_crossentropy")
    ids, labels = namespace["token_batch"](1)
    for dtype in ("float64", "float32"):
        spec = model.spec(f"tokens-{dtype}", ids, model.trainable_names, targets=labels,
                          dtype=dtype)
        found = {r.backend: r.status for r in check(spec, backends).results}
        assert found == {"tf-eager": Status.PASS, "jax": Status.PASS}, (dtype, found)


def test_keras_3_token_classifier_gradient_wrt_weights_passes(backend) -> None:
    backend("jax")
    if importlib.util.find_spec("keras") is None:
        pytest.skip("Keras 3 models need keras (pip install 'gradparity[keras]')")
    code = MODELS + textwrap.dedent('''
        import json
        import keras
        from conformance.api import check
        from conformance.model import ModelSpec
        model = ModelSpec.from_keras(token_classifier(keras),
                                     objective="sparse_categorical_crossentropy")
        ids, labels = token_batch(2)
        found = {}
        for dtype in ("float64", "float32"):
            spec = model.spec("tokens", ids, model.trainable_names, targets=labels, dtype=dtype)
            found[dtype] = {r.backend: r.status.name for r in check(spec, ["jax"]).results}
        print(json.dumps(found))
    ''')
    env = {**os.environ, "KERAS_BACKEND": "jax", "PYTHONPATH": os.pathsep.join(sys.path)}
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env,
                          timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    found = json.loads(proc.stdout.strip().splitlines()[-1])
    assert found == {"float64": {"jax": "PASS"}, "float32": {"jax": "PASS"}}
