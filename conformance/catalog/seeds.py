"""The seed scenarios: the cases of the five user documents in ``shared/seeds``, as specs.

Each is built the way its document builds it (layer sizes, activations, initializers, what
is differentiated w.r.t. what), with fixed arrays so every run checks the same numbers.
MNIST is replaced by seeded images normalized the same way. Every case runs in float64 and
float32.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial
from typing import Any

import numpy as np

from conformance.model import Dense, Dropout, ModelSpec, weight_shapes
from conformance.spec import Spec

#: Keras's default SGD learning rate, for seed 002's training step.
SGD_LEARNING_RATE = 0.01


def _glorot(rng: np.random.Generator, shapes: dict[str, tuple[int, ...]]) -> dict[str, np.ndarray]:
    """Keras's default initialization (Glorot-uniform kernels), with small nonzero biases."""
    weights = {}
    for name, shape in shapes.items():
        if len(shape) == 2:
            limit = np.sqrt(6.0 / sum(shape))
            weights[name] = rng.uniform(-limit, limit, size=shape)
        else:
            weights[name] = rng.normal(size=shape) * 0.05
    return weights


def _one_hot(rng: np.random.Generator, rows: int, classes: int) -> np.ndarray:
    return np.eye(classes)[rng.integers(0, classes, size=rows)]


# -- seed 000: loss gradient w.r.t. the input, for adversarial training --------------------

def seed000() -> list[Spec]:
    """Categorical cross-entropy (sample weights fed) w.r.t. the input, Dropout in inference."""
    rng = np.random.default_rng(1002)  # seeds here keep ReLU kinks out of the reference's steps
    layers = (Dense(32, "relu"), Dropout(0.5), Dense(4, "softmax"))
    model = ModelSpec(layers, 16, _glorot(rng, weight_shapes(layers, 16)),
                      objective="categorical_crossentropy")
    batch = 8
    return [model.spec(
        "seed000-adversarial-loss-wrt-input", {"x": rng.normal(size=(batch, 16))}, "x",
        targets={"y": _one_hot(rng, batch, 4), "sample_weight": np.ones(batch)},
        description="seed 000: gradient of the classifier's categorical cross-entropy loss "
                    "(targets and equal sample weights fed) w.r.t. the input batch, Dropout "
                    "in inference mode (learning phase 0), for adversarial training",
        tags=("seed", "seed000", "keras", "loss", "dropout"))]


# -- seed 001: dy/dx of a trained 1-32-32-1 ReLU MLP at two inputs -------------------------

def _seed001_model() -> ModelSpec:
    """The 1-32-32-1 ReLU MLP fitted to the document's data, y = 4 (x - 0.5)^2 on 100 points.

    Layer 1 holds hinges relu(+-(x - k)) at 16 knots away from 0.2 and 0.6; layer 2 mixes
    them with positive weights (always active); the output layer is fitted by ridge least
    squares. Unlike a fresh initialization (zero biases: one linear piece for x > 0, the
    same gradient everywhere), its gradient follows dy/dx = 8 (x - 0.5).
    """
    rng = np.random.default_rng(1001)
    knots = (np.arange(16) + 0.5) / 16
    kernel_1 = np.concatenate([np.ones(16), -np.ones(16)])[None, :]
    bias_1 = np.concatenate([-knots, knots])
    kernel_2 = rng.uniform(0.0, 0.25, size=(32, 32))
    bias_2 = np.full(32, 0.05)
    x = np.linspace(0, 1, 100)[:, None]
    hidden = np.maximum(np.maximum(x @ kernel_1 + bias_1, 0) @ kernel_2 + bias_2, 0)
    design = np.hstack([hidden, np.ones((100, 1))])
    target = 4 * (x[:, 0] - 0.5) ** 2
    fitted = np.linalg.solve(design.T @ design + 1e-8 * np.eye(33), design.T @ target)
    layers = (Dense(32, "relu"), Dense(32, "relu"), Dense(1))
    return ModelSpec(layers, 1, [kernel_1, bias_1, kernel_2, bias_2, fitted[:32, None],
                                 fitted[32:]], objective="sum")


def seed001() -> list[Spec]:
    """K.gradients(model.output, model.input) of the trained MLP at x = 0.2 and x = 0.6."""
    model = _seed001_model()
    return [model.spec(
        f"seed001-output-wrt-input-at-{x}", {"x": np.array([[x]])}, "x",
        description=f"seed 001: derivative of the trained 1-32-32-1 ReLU MLP's output w.r.t. "
                    f"its input at x = {x} (true curve: 8 (x - 0.5) = {8 * (x - 0.5):.1f}); "
                    "a stale or freshly initialized session gives the same number at 0.2 "
                    "and 0.6",
        tags=("seed", "seed001", "keras", "session"))
        for x in (0.2, 0.6)]


# -- seed 002: hypergradient of the validation error w.r.t. a training sample ---------------

def hypergradient(xp: Any, grad: Any, *, train_model: ModelSpec, val_model: ModelSpec,
                  x_train: Any, y_train: Any, x_val: Any, y_val: Any, **weights: Any) -> Any:
    """Validation MSE after one SGD step on the training sample (training loss: the model's)."""
    names = train_model.weight_names

    def train_loss(params: list, x: Any) -> Any:
        return train_model.apply(xp, x=x, y=y_train, **dict(zip(names, params, strict=True)))

    step = grad(train_loss)([weights[n] for n in names], x_train)
    stepped = {n: weights[n] - SGD_LEARNING_RATE * g for n, g in zip(names, step, strict=True)}
    return val_model.apply(xp, x=x_val, y=y_val, **stepped)


def hypergradient_by_hand(xp: Any, *, train_model: ModelSpec, val_model: ModelSpec,
                          x_train: Any, y_train: Any, x_val: Any, y_val: Any,
                          **weights: Any) -> Any:
    """:func:`hypergradient` with the training gradient written out (numpy backprop)."""
    step = train_gradient_by_hand(train_model, [weights[n] for n in train_model.weight_names],
                                  x_train, y_train)
    stepped = {n: weights[n] - SGD_LEARNING_RATE * g
               for n, g in zip(train_model.weight_names, step, strict=True)}
    return val_model.apply(xp, x=x_val, y=y_val, **stepped)


def train_gradient_by_hand(model: ModelSpec, params: Sequence[np.ndarray], x: np.ndarray,
                           y: np.ndarray) -> list[np.ndarray]:
    """Gradient of the mean categorical cross-entropy of a ReLU MLP with a softmax output.

    ``params`` are (kernel, bias) per Dense layer in Keras order.
    """
    kernels, biases = params[0::2], params[1::2]
    activations, pre = [x], []
    for i, (kernel, bias) in enumerate(zip(kernels, biases, strict=True)):
        pre.append(activations[-1] @ kernel + bias)
        if i < len(kernels) - 1:
            activations.append(np.maximum(pre[-1], 0))
    logits = pre[-1]
    probabilities = np.exp(logits - logits.max(axis=-1, keepdims=True))
    probabilities /= probabilities.sum(axis=-1, keepdims=True)
    delta = (probabilities - y) / len(x)  # targets are one-hot: each row sums to 1
    grads: list[np.ndarray] = []
    for i in reversed(range(len(kernels))):
        grads[:0] = [activations[i].T @ delta, delta.sum(axis=0)]
        if i:
            delta = (delta @ kernels[i].T) * (pre[i - 1] > 0)
    return grads


def _seed002(name: str, features: int, hidden: int, classes: int, validation: int,
             seed: int) -> Spec:
    rng = np.random.default_rng(seed)
    layers = (Dense(hidden, "relu"), Dense(hidden, "relu"), Dense(classes, "softmax"))
    train_model = ModelSpec(layers, features, _glorot(rng, weight_shapes(layers, features)),
                            objective="categorical_crossentropy")
    val_model = ModelSpec(layers, features, train_model.weights, objective="mse")
    images = rng.integers(0, 256, size=(1 + validation, features)) / 255 - 0.5
    labels = _one_hot(rng, 1 + validation, classes)
    arrays = {"x_train": images[:1], "y_train": labels[:1], "x_val": images[1:],
              "y_val": labels[1:], **train_model.weights}
    roles = {"y_train": "target", "x_val": "input", "y_val": "target",
             **{n: "param" for n in train_model.weight_names}}
    models = {"train_model": train_model, "val_model": val_model}
    return Spec(
        name, partial(hypergradient, **models), arrays, ("x_train",), roles=roles,
        uses_grad=True, reference_fn=partial(hypergradient_by_hand, **models),
        description=f"seed 002: validation MSE on {validation} samples after one SGD step "
                    f"(lr {SGD_LEARNING_RATE}, categorical cross-entropy) on one training "
                    f"sample, w.r.t. that sample, for a {features}-{hidden}-{hidden}-{classes} "
                    "softmax MLP (a hypergradient: differentiate through the step, not model.fit)",
        tags=("seed", "seed002", "hypergradient"))


def seed002() -> list[Spec]:
    """The document's 784-64-64-10 MNIST MLP, and a small variant for quick runs."""
    return [_seed002("seed002-hypergradient", 784, 64, 10, 5, 1002),
            _seed002("seed002-hypergradient-small", 12, 8, 3, 5, 2002)]


# -- seed 003: output w.r.t. every layer's weights; Jacobian w.r.t. the input ---------------

def seed003() -> list[Spec]:
    """The 8-12-8-1 network (relu, relu, sigmoid; init 'uniform' = U(-0.05, 0.05))."""
    # tiny weights and zero biases put ReLU kinks close; this seed keeps them out of the
    # reference's finite-difference steps (tests/test_seeds.py checks it)
    rng = np.random.default_rng(1014)
    layers = (Dense(12, "relu"), Dense(8, "relu"), Dense(1, "sigmoid"))
    weights = {n: rng.uniform(-0.05, 0.05, size=s) if len(s) == 2 else np.zeros(s)
               for n, s in weight_shapes(layers, 8).items()}
    model = ModelSpec(layers, 8, weights, objective="sum")
    tags = ("seed", "seed003", "keras")
    return [
        model.spec("seed003-output-wrt-weights", {"x": rng.random((1, 8))},
                   model.weight_names,
                   description="seed 003: K.gradients(model.output, model.trainable_weights) "
                               "for one training example: the output w.r.t. every layer's "
                               "kernel and bias",
                   tags=tags),
        ModelSpec(layers, 8, weights, objective="output").spec(
            "seed003-output-jacobian-wrt-input", {"x": rng.random((4, 8))}, "x", kind="jacobian",
            description="seed 003: full Jacobian of the output w.r.t. the input batch (the "
                        "flattened output's Jacobian, as T.jacobian gives it, reshaped)",
            tags=tags),
    ]


# -- seed 004: a two-input custom model ------------------------------------------------------

def seed004() -> list[Spec]:
    """(hidden_model(x) + 1) * reference_prices, rows = 10, cols = 2, w.r.t. both inputs."""
    rng = np.random.default_rng(1004)
    rows, cols = 10, 2
    model = ModelSpec((Dense(1, name="output"),), cols,
                      {"output_kernel": np.full((cols, 1), 0.1), "output_bias": np.zeros(1)},
                      head=(("add", 1.0), ("multiply", "reference_prices")), objective="sum")
    return [model.spec(
        "seed004-two-input-grad",
        {"x": rng.normal(size=(rows, cols)), "reference_prices": rng.uniform(50, 150, (rows, 1))},
        ("x", "reference_prices"),
        description="seed 004: K.gradients(model.output, model.input) of the custom model "
                    "(hidden_model(x) + 1) * reference_prices with a constant-initialized "
                    "Dense(1) hidden model, w.r.t. both inputs (one price per row)",
        tags=("seed", "seed004", "keras", "multi-input"))]


def seed_specs() -> list[Spec]:
    """Every seed case, each in float64 and float32."""
    base = seed000() + seed001() + seed002() + seed003() + seed004()
    return [s.as_dtype(dtype) for s in base for dtype in ("float64", "float32")]
