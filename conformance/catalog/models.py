"""Model catalog: a small CNN on 28x28x1 images, an MLP with BatchNormalization, and an
Embedding+LSTM text classifier with sparse labels, each as real Keras layers.

Every model's loss is differentiated w.r.t. its input (not for token ids, which have no
derivative) and w.r.t. its trainable weights, in float64 and float32. The models are kept
small (a few filters, short sequences) so the float64 reference stays cheap; the wide ones
are judged by its directional checks. Activations are smooth (tanh) so no ReLU kink falls
inside the reference's finite-difference steps; the seeds below keep max-pooling's window
maxima apart.
"""

from __future__ import annotations

import numpy as np

from conformance.model import (
    LSTM,
    Activation,
    BatchNormalization,
    Conv2D,
    Dense,
    Embedding,
    Flatten,
    MaxPooling2D,
    ModelSpec,
    weight_shapes,
)
from conformance.spec import Spec


def _initialized(rng: np.random.Generator, model_layers: tuple, input_dim: object
                 ) -> dict[str, np.ndarray]:
    """Glorot-uniform kernels, small biases and BN statistics a trained model might hold."""
    weights = {}
    for name, shape in weight_shapes(model_layers, input_dim).items():
        if name.endswith("moving_variance"):
            weights[name] = rng.uniform(0.5, 2.0, size=shape)
        elif name.endswith(("gamma",)):
            weights[name] = rng.uniform(0.8, 1.2, size=shape)
        elif len(shape) >= 2:
            fan_in, fan_out = int(np.prod(shape[:-1])), shape[-1]
            limit = np.sqrt(6.0 / (fan_in + fan_out))
            weights[name] = rng.uniform(-limit, limit, size=shape)
        else:
            weights[name] = rng.normal(size=shape) * 0.1
    return weights


def _both(model: ModelSpec, base: str, inputs: dict, targets: dict, input_wrt: str | None,
          description: str, tags: tuple[str, ...]) -> list[Spec]:
    specs = []
    if input_wrt is not None:
        specs.append(model.spec(f"{base}-loss-wrt-input", inputs, input_wrt, targets=targets,
                                description=f"{description}: the loss w.r.t. the input batch",
                                tags=tags))
    specs.append(model.spec(f"{base}-loss-wrt-weights", inputs, model.trainable_names,
                            targets=targets,
                            description=f"{description}: the loss w.r.t. every trainable weight",
                            tags=tags))
    return specs


def cnn() -> list[Spec]:
    """Conv2D(2, 3x3, tanh) -> MaxPooling2D(2) -> Flatten -> Dense(3, softmax) on 28x28x1."""
    rng = np.random.default_rng(2801)
    layers = (Conv2D(2, 3, activation="tanh"), MaxPooling2D(2), Flatten(),
              Dense(3, "softmax"))
    model = ModelSpec(layers, (28, 28, 1), _initialized(rng, layers, (28, 28, 1)),
                      objective="categorical_crossentropy")
    batch = 2
    images = rng.integers(0, 256, size=(batch, 28, 28, 1)) / 255.0
    labels = np.eye(3)[rng.integers(0, 3, size=batch)]
    return _both(model, "models-cnn", {"x": images}, {"y": labels}, "x",
                 "a small CNN (Conv2D, MaxPooling2D, Flatten, Dense) on 28x28x1 images, "
                 "categorical cross-entropy", ("model", "cnn", "keras"))


def bn_mlp() -> list[Spec]:
    """Dense(8, no bias) -> BatchNormalization -> tanh -> Dense(3, softmax), inference and
    training (a bias before BN would cancel out of a batch-normalized output)."""
    rng = np.random.default_rng(2802)
    layers = (Dense(8, use_bias=False), BatchNormalization(), Activation("tanh"),
              Dense(3, "softmax"))
    model = ModelSpec(layers, 6, _initialized(rng, layers, 6),
                      objective="categorical_crossentropy")
    batch = 8
    inputs = {"x": rng.normal(size=(batch, 6))}
    targets = {"y": np.eye(3)[rng.integers(0, 3, size=batch)]}
    tags = ("model", "batchnorm", "keras")
    return _both(model, "models-bn-mlp", inputs, targets, "x",
                 "an MLP with BatchNormalization in inference mode (moving statistics), "
                 "categorical cross-entropy", tags) + [
        model.with_training(True).spec(
            "models-bn-mlp-training-loss-wrt-weights", inputs, model.trainable_names,
            targets=targets, tags=(*tags, "training"),
            description="the BatchNormalization MLP in training mode (the batch's own "
                        "statistics): the loss w.r.t. every trainable weight")]


def embedding_lstm() -> list[Spec]:
    """Embedding(20, 4) -> LSTM(5) -> Dense(3, softmax) on token ids, sparse labels."""
    rng = np.random.default_rng(2803)
    layers = (Embedding(20, 4), LSTM(5), Dense(3, "softmax"))
    model = ModelSpec(layers, (6,), _initialized(rng, layers, (6,)),
                      objective="sparse_categorical_crossentropy")
    batch = 4
    ids = rng.integers(0, 20, size=(batch, 6)).astype(float)
    labels = rng.integers(0, 3, size=batch).astype(float)
    return _both(model, "models-embedding-lstm", {"x": ids}, {"y": labels}, None,
                 "an Embedding+LSTM text classifier on token ids with sparse integer labels, "
                 "sparse categorical cross-entropy", ("model", "lstm", "embedding", "keras"))


def model_specs() -> list[Spec]:
    """Every model case, each in float64 and float32."""
    base = cnn() + bn_mlp() + embedding_lstm()
    return [s.as_dtype(dtype) for s in base for dtype in ("float64", "float32")]
