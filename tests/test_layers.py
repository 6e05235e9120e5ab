"""Each Keras layer of the model IR against the real tf-keras layer, forward values in float64.

The spec's ``xp`` forward (run on numpy) and the tf-keras model built from the same spec by
the TF adapters' builder must agree to ~1e-12, in inference and (BatchNormalization) in
training mode.
"""

from __future__ import annotations

import importlib.util

import numpy as np
import pytest

from conformance import model as m
from conformance.spec import SpecError

RNG = np.random.default_rng(12)


def _case(layers: tuple, input_dim: object, training: bool = False) -> m.ModelSpec:
    shapes = m.weight_shapes(layers, input_dim)
    weights = {n: RNG.uniform(0.5, 1.5, s) if n.endswith("variance") else RNG.normal(size=s) * 0.5
               for n, s in shapes.items()}
    return m.ModelSpec(layers, input_dim, weights, training=training)


def _inputs(model: m.ModelSpec, batch: int = 3) -> dict[str, np.ndarray]:
    arrays = {}
    for name, shape in model.input_shapes.items():
        if name in model.index_inputs:
            vocabulary = model.index_inputs[name].config["input_dim"]
            arrays[name] = RNG.integers(0, vocabulary, size=(batch, *shape)).astype(float)
        else:
            arrays[name] = RNG.normal(size=(batch, *shape))
    return arrays


CASES = {
    "conv-same": ((m.Conv2D(3, 3, padding="same", activation="tanh"),), (6, 5, 2)),
    "conv-valid-strided": ((m.Conv2D(2, (3, 2), strides=2),), (7, 6, 2)),
    "conv-same-strided": ((m.Conv2D(2, 3, strides=2, padding="same", use_bias=False),), (7, 7, 1)),
    "max-pool": ((m.MaxPooling2D(2),), (6, 6, 2)),
    "max-pool-overlapping": ((m.MaxPooling2D(3, strides=2),), (7, 7, 2)),
    "average-pool": ((m.AveragePooling2D((2, 3), strides=1),), (5, 6, 1)),
    "conv-pool-flatten-dense": ((m.Conv2D(2, 3), m.MaxPooling2D(), m.Flatten(), m.Dense(3)),
                                (8, 8, 1)),
    "batchnorm": ((m.Dense(4), m.BatchNormalization()), 3),
    "batchnorm-images": ((m.BatchNormalization(epsilon=0.01, center=False),), (4, 4, 3)),
    "layernorm": ((m.Dense(5), m.LayerNormalization(scale=False)), 3),
    "embedding": ((m.Embedding(7, 3), m.Flatten(), m.Dense(2)), (4,)),
    "lstm": ((m.LSTM(3),), (5, 2)),
    "lstm-sequences": ((m.LSTM(3, return_sequences=True), m.Dense(2)), (4, 2)),
    "gru": ((m.GRU(3),), (5, 2)),
    "gru-sequences-reset-before": ((m.GRU(3, return_sequences=True, reset_after=False),),
                                   (4, 2)),
    "embedding-lstm": ((m.Embedding(9, 3), m.LSTM(4), m.Dense(3, "softmax")), (5,)),
    "dropout-inference": ((m.Dense(3), m.Dropout(0.5)), 2),
}


def _functional() -> m.ModelSpec:
    layers = (m.Layer("Dense", {"units": 3, "name": "left"}, ("u",)),
              m.Layer("Dense", {"units": 3, "name": "right"}, ("v",)),
              m.Add(("left", "right"), name="sum"),
              m.Concatenate(("sum", "u"), name="joined"),
              m.Layer("Dense", {"units": 2, "name": "out"}, ("joined",)))
    return _case(layers, {"u": (4,), "v": (2,)})


def _models() -> dict[str, m.ModelSpec]:
    models = {name: _case(layers, shape) for name, (layers, shape) in CASES.items()}
    models["functional-add-concatenate"] = _functional()
    models["batchnorm-training"] = _case((m.Dense(4), m.BatchNormalization()), 3, training=True)
    models["batchnorm-images-training"] = _case((m.BatchNormalization(),), (3, 3, 2),
                                                training=True)
    return models


MODELS = _models()


@pytest.fixture(scope="module")
def tf():
    if not all(importlib.util.find_spec(m_) for m_ in ("tensorflow", "tf_keras")):
        pytest.skip("the layer checks need tensorflow and tf-keras (pip install 'gradparity[tf]')")
    from backends import _tf

    return _tf.tensorflow()


@pytest.mark.parametrize("name", sorted(MODELS))
def test_layer_forward_matches_tf_keras(tf, name: str) -> None:
    from backends import _keras

    model = MODELS[name]
    spec = model.spec(name, _inputs(model), model.weight_names[:1] or model.input_names[:1],
                      kind="jacobian")
    keras = _keras.build_tf_keras_model(spec)
    for n, variable in keras.variables.items():
        variable.assign(spec.arrays[n])
    ours = spec.evaluate(np, spec.arrays)
    theirs = keras.call({n: tf.constant(a) for n, a in spec.arrays.items()},
                        training=model.training).numpy()
    assert ours.shape == theirs.shape
    assert np.max(np.abs(ours - theirs)) <= 1e-12 * max(1.0, np.max(np.abs(theirs)))


def test_batchnorm_training_uses_batch_statistics() -> None:
    inference = MODELS["batchnorm"]
    training = inference.with_training(True)
    x = _inputs(inference, batch=6)
    out = training.forward(np, {**x, **training.weights})
    assert np.allclose(out.mean(axis=0), training.weights["batch_normalization_0_beta"])
    assert not np.allclose(inference.forward(np, {**x, **inference.weights}), out)


def test_weight_order_is_keras_layer_weights_order() -> None:
    model = _case((m.Conv2D(2, 3), m.BatchNormalization(), m.Flatten(), m.Dense(1)), (4, 4, 1))
    assert model.weight_names == (
        "conv2d_0_kernel", "conv2d_0_bias", "batch_normalization_0_gamma",
        "batch_normalization_0_beta", "batch_normalization_0_moving_mean",
        "batch_normalization_0_moving_variance", "dense_0_kernel", "dense_0_bias")
    assert model.trainable_names == tuple(n for n in model.weight_names if "moving" not in n)
    lstm = _case((m.LSTM(3),), (4, 2))
    assert lstm.weight_shapes == {"lstm_0_kernel": (2, 12), "lstm_0_recurrent_kernel": (3, 12),
                                  "lstm_0_bias": (12,)}
    gru = _case((m.GRU(3),), (4, 2))
    assert gru.weight_shapes["gru_0_bias"] == (2, 9)


@pytest.mark.parametrize("build, field", [
    (lambda: m.Conv2D(2, 3, padding="causal"), "layers['Conv2D'].padding"),
    (lambda: m.Layer("Conv2D", {"filters": 2, "kernel_size": 3, "data_format": "channels_first"}),
     "layers['Conv2D'].data_format"),
    (lambda: m.Layer("LSTM", {"units": 2, "go_backwards": True}), "layers['LSTM'].go_backwards"),
    (lambda: m.Layer("Embedding", {"input_dim": 4, "output_dim": 2, "mask_zero": True}),
     "layers['Embedding'].mask_zero"),
    (lambda: _case((m.Conv2D(2, 5),), (3, 3, 1)), "layers['conv2d_0']"),
    (lambda: _case((m.Dense(2), m.Add(("dense_0", "nowhere"))), 2), "layers['add_0'].inbound"),
    (lambda: _case((m.Embedding(4, 2),), (3,)).spec("s", {"x": np.zeros((2, 3))}, "x",
                                                     kind="jacobian"), "wrt"),
    (lambda: _case((m.Embedding(4, 2),), (3,)).spec("s", {"x": np.full((2, 3), 4.0)},
                                                     "embedding_0_embeddings", kind="jacobian"),
     "inputs['x']"),
    (lambda: m.ModelSpec((m.Dropout(0.5),), 2, {}, training=True), "training"),
])
def test_invalid_layers_raise_spec_error_naming_the_field(build, field: str) -> None:
    with pytest.raises(SpecError) as raised:
        build()
    assert raised.value.field == field
