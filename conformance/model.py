"""Model specs: a small Keras-compatible layer description plus weights, compiled to ``fn``.

Layers use Keras's class names, config keys and activation names (``Dense(units, activation,
use_bias)``, ``Dropout(rate)``, ``Activation(activation)``); weights are in Keras order
(per layer: kernel, then bias). A :class:`ModelSpec` also says what is differentiated:
the model ``output``, its ``sum`` (what ``K.gradients(model.output, ...)`` and
``tape.gradient(output, ...)`` differentiate), or a Keras loss (``mse``,
``categorical_crossentropy``, with optional per-sample weights); and whether Dropout is
active (``training``). A ``head`` of elementwise ops on the body's output against constants
or further inputs describes multi-input models such as seed 004's
``(hidden_model(x) + 1) * reference_prices``.

:meth:`ModelSpec.spec` turns it into an ordinary :class:`~conformance.spec.Spec` whose ``fn``
is the compiled model (so JAX, autograd and the reference need nothing special) and whose
``model`` attribute is the ModelSpec, from which TF adapters build a real tf_keras model.
Array names: the body input ``x``, head inputs by their own names, targets ``y`` and
``sample_weight``, and weights ``<layer name>_kernel`` / ``<layer name>_bias``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from conformance.spec import Spec, SpecError

#: Keras activation name -> the same function written against a numpy-like ``xp``.
ACTIVATIONS: dict[str, Callable[[Any, Any], Any]] = {
    "linear": lambda xp, z: z,
    # z * (z > 0): derivative 0 at the kink, as tf.nn.relu has it
    "relu": lambda xp, z: z * (z > 0),
    "sigmoid": lambda xp, z: 1 / (1 + xp.exp(-z)),
    "tanh": lambda xp, z: xp.tanh(z),
    "softmax": lambda xp, z: _softmax(xp, z),
}
#: What a model spec differentiates.
OBJECTIVES: tuple[str, ...] = ("output", "sum", "mse", "categorical_crossentropy")
LOSSES: tuple[str, ...] = ("mse", "categorical_crossentropy")
#: Elementwise ops of a head: the running output op a constant or another input.
HEAD_OPS: tuple[str, ...] = ("add", "multiply")
BODY_INPUT = "x"
TARGET, SAMPLE_WEIGHT = "y", "sample_weight"
#: Config keys read per layer class (anything else in a Keras config does not change the math).
LAYER_KEYS: dict[str, tuple[str, ...]] = {
    "Dense": ("name", "units", "activation", "use_bias"),
    "Dropout": ("name", "rate"),
    "Activation": ("name", "activation"),
}


def _softmax(xp: Any, z: Any) -> Any:
    e = xp.exp(z - xp.max(z, axis=-1, keepdims=True))
    return e / xp.sum(e, axis=-1, keepdims=True)


@dataclass(frozen=True)
class Layer:
    """One layer as Keras writes it: ``class_name`` and the config keys that matter."""

    class_name: str
    config: Mapping[str, Any]

    def __post_init__(self) -> None:
        where = f"layers[{self.config.get('name', self.class_name)!r}]"
        if self.class_name not in LAYER_KEYS:
            raise SpecError(where, f"unsupported layer class {self.class_name!r}",
                            f"use one of {', '.join(LAYER_KEYS)}")
        config = {k: self.config[k] for k in LAYER_KEYS[self.class_name] if k in self.config}
        if self.class_name == "Dense":
            units = config.get("units")
            if not isinstance(units, int | np.integer) or isinstance(units, bool) or units < 1:
                raise SpecError(f"{where}.units", f"{units!r} is not a positive integer",
                                "give Dense a positive number of units")
            config.setdefault("activation", "linear")
            config.setdefault("use_bias", True)
            config["activation"] = _check_activation(f"{where}.activation", config["activation"])
        elif self.class_name == "Activation":
            config["activation"] = _check_activation(f"{where}.activation",
                                                     config.get("activation"))
        else:
            rate = config.get("rate")
            if not isinstance(rate, int | float) or not 0 <= rate < 1:
                raise SpecError(f"{where}.rate", f"{rate!r} is not in [0, 1)",
                                "give Dropout a rate 0 <= rate < 1")
        object.__setattr__(self, "config", config)

    @property
    def name(self) -> str:
        return self.config["name"]

    @property
    def weight_kinds(self) -> tuple[str, ...]:
        """Its weights in Keras order."""
        if self.class_name != "Dense":
            return ()
        return ("kernel", "bias") if self.config["use_bias"] else ("kernel",)

    def keras_config(self, dtype: str) -> dict[str, Any]:
        """The ``{"class_name", "config"}`` dict ``tf.keras.layers.deserialize`` takes."""
        return {"class_name": self.class_name, "config": {**self.config, "dtype": dtype}}


def _check_activation(where: str, activation: Any) -> str:
    name = "linear" if activation is None else activation
    if name not in ACTIVATIONS:
        raise SpecError(where, f"unsupported activation {activation!r}",
                        f"use one of {', '.join(ACTIVATIONS)}")
    return name


def Dense(units: int, activation: str = "linear", use_bias: bool = True,  # noqa: N802 - Keras name
          name: str | None = None) -> Layer:
    """A Keras ``Dense`` layer description."""
    return Layer("Dense", _named({"units": units, "activation": activation,
                                  "use_bias": use_bias}, name))


def Dropout(rate: float, name: str | None = None) -> Layer:  # noqa: N802 - Keras name
    """A Keras ``Dropout`` layer description."""
    return Layer("Dropout", _named({"rate": rate}, name))


def Activation(activation: str, name: str | None = None) -> Layer:  # noqa: N802 - Keras name
    """A Keras ``Activation`` layer description."""
    return Layer("Activation", _named({"activation": activation}, name))


def _named(config: dict[str, Any], name: str | None) -> dict[str, Any]:
    return config if name is None else {**config, "name": name}


@dataclass(frozen=True, eq=False)
class ModelSpec:
    """A Sequential body on input ``x``, an optional head, weights, and what to differentiate.

    ``weights`` maps parameter names (see :attr:`weight_shapes`) to arrays, or is a list in
    Keras's ``get_weights()`` order. Layers without a name are named ``<class>_<k>``.
    """

    layers: tuple[Layer, ...]
    input_dim: int
    weights: Mapping[str, np.ndarray] | Sequence[np.ndarray]
    head: tuple[tuple[str, float | str], ...] = ()
    objective: str = "output"
    training: bool = False
    weight_names: tuple[str, ...] = field(init=False, default=())

    def __post_init__(self) -> None:
        set_ = object.__setattr__  # frozen dataclass: store the normalized fields
        set_(self, "layers", _auto_named(tuple(self.layers)))
        if not isinstance(self.input_dim, int | np.integer) or self.input_dim < 1:
            raise SpecError("input_dim", f"{self.input_dim!r} is not a positive integer",
                            "give the width of the input x")
        if self.objective not in OBJECTIVES:
            raise SpecError("objective", f"unknown objective {self.objective!r}",
                            f"use one of {', '.join(OBJECTIVES)}")
        if self.training and any(layer.class_name == "Dropout" and layer.config["rate"] > 0
                                 for layer in self.layers):
            raise SpecError("training", "Dropout with rate > 0 is random in training mode",
                            "use training=False (inference), or a Dropout rate of 0")
        set_(self, "head", tuple(self._checked_head()))
        shapes = self.weight_shapes
        set_(self, "weight_names", tuple(shapes))
        set_(self, "weights", self._checked_weights(shapes))

    # -- structure --------------------------------------------------------------------------

    @property
    def weight_shapes(self) -> dict[str, tuple[int, ...]]:
        """Parameter name -> shape, in Keras ``get_weights()`` order."""
        return weight_shapes(self.layers, self.input_dim)

    @property
    def head_inputs(self) -> tuple[str, ...]:
        """Names of the inputs besides ``x`` that the head uses."""
        return tuple(dict.fromkeys(o for _, o in self.head if isinstance(o, str)))

    @property
    def losses(self) -> bool:
        return self.objective in LOSSES

    # -- math -------------------------------------------------------------------------------

    def forward(self, xp: Any, arrays: Mapping[str, Any]) -> Any:
        """The model output, computed with ``xp`` (Dropout is the identity: inference mode)."""
        h = arrays[BODY_INPUT]
        for layer in self.layers:
            if layer.class_name == "Dense":
                h = h @ arrays[param_name(layer, "kernel")]
                if layer.config["use_bias"]:
                    h = h + arrays[param_name(layer, "bias")]
                h = ACTIVATIONS[layer.config["activation"]](xp, h)
            elif layer.class_name == "Activation":
                h = ACTIVATIONS[layer.config["activation"]](xp, h)
        for op, operand in self.head:
            other = arrays[operand] if isinstance(operand, str) else operand
            h = h + other if op == "add" else h * other
        return h

    def apply(self, xp: Any, **arrays: Any) -> Any:
        """The objective: output, its sum, or the (weighted) Keras loss; a spec's ``fn``."""
        out = self.forward(xp, arrays)
        if self.objective == "output":
            return out
        if self.objective == "sum":
            return xp.sum(out)
        y = arrays[TARGET]
        if self.objective == "mse":
            per_sample = xp.mean((y - out) ** 2, axis=-1)
        else:  # categorical_crossentropy; Keras's clipping at 1e-7 is not reached by sane data
            per_sample = -xp.sum(y * xp.log(out / xp.sum(out, axis=-1, keepdims=True)), axis=-1)
        if SAMPLE_WEIGHT in arrays:
            per_sample = per_sample * arrays[SAMPLE_WEIGHT]
        # Keras's default reduction, sum over batch size
        return xp.mean(per_sample)

    # -- specs ------------------------------------------------------------------------------

    def spec(self, name: str, inputs: Mapping[str, np.ndarray], wrt: Sequence[str] | str, *,
             kind: str = "grad", targets: Mapping[str, np.ndarray] | None = None,
             dtype: str = "float64", tangents: Mapping[str, np.ndarray] | None = None,
             cotangent: np.ndarray | None = None, description: str = "",
             tags: Sequence[str] = ()) -> Spec:
        """A Spec differentiating this model's objective at ``inputs`` w.r.t. ``wrt``.

        ``inputs`` holds ``x`` and the head's inputs; ``targets`` holds ``y`` (and optionally
        ``sample_weight``) for a loss objective. ``wrt`` may name inputs and weights.
        """
        targets = dict(targets or {})
        self._check_inputs(inputs, targets)
        roles = {**{n: "input" for n in inputs}, **{n: "param" for n in self.weight_names},
                 **{n: "target" for n in targets}}
        return Spec(name=name, fn=self.apply, arrays={**inputs, **self.weights, **targets},
                    wrt=tuple([wrt] if isinstance(wrt, str) else wrt), kind=kind, roles=roles,
                    dtype=dtype, tangents=tangents or {}, cotangent=cotangent,
                    description=description, model=self, tags=tuple(tags))

    def with_weights(self, weights: Mapping[str, np.ndarray] | Sequence[np.ndarray]) -> ModelSpec:
        """The same model with other weights (validated again)."""
        return replace(self, weights=weights)

    @classmethod
    def from_keras(cls, model: Any, objective: str = "output", training: bool = False) -> ModelSpec:
        """A user's tf_keras ``Sequential`` model, read via ``get_config()`` and ``get_weights()``.

        Reads the layer configs and the current weights only, so no framework is imported.
        """
        config = model.get_config()
        if not isinstance(config, Mapping) or not isinstance(config.get("layers"), list) \
                or "input_layers" in config:
            raise SpecError("model", f"{type(model).__name__} is not a Sequential model",
                            "pass a tf_keras Sequential model of Dense, Dropout and Activation")
        layers, input_dim = [], None
        for entry in config["layers"]:
            layer_config = entry.get("config", {})
            shape = layer_config.get("batch_input_shape")
            if shape and input_dim is None:
                input_dim = shape[-1]
            if entry.get("class_name") != "InputLayer":
                layers.append(Layer(entry.get("class_name"), layer_config))
        weights = [np.asarray(w) for w in model.get_weights()]
        if input_dim is None:
            if not weights:
                raise SpecError("model", "has no input shape and no weights",
                                "build the model (give it an input shape) before reading it")
            input_dim = weights[0].shape[0]
        return cls(tuple(layers), int(input_dim), weights, objective=objective, training=training)

    # -- validation -------------------------------------------------------------------------

    def _checked_head(self) -> list[tuple[str, float | str]]:
        checked = []
        for i, step in enumerate(self.head):
            if not (isinstance(step, tuple | list) and len(step) == 2 and step[0] in HEAD_OPS):
                raise SpecError(f"head[{i}]", f"{step!r} is not (op, operand)",
                                f"use pairs like ('add', 1.0); ops: {', '.join(HEAD_OPS)}")
            op, operand = step
            if isinstance(operand, str):
                if not operand.isidentifier() or operand in (BODY_INPUT, TARGET, SAMPLE_WEIGHT):
                    raise SpecError(f"head[{i}]", f"operand {operand!r} is not a free input name",
                                    "name a further input with a Python identifier")
            elif not isinstance(operand, int | float) or isinstance(operand, bool):
                raise SpecError(f"head[{i}]", f"operand {operand!r} is neither a number nor a name",
                                "use a constant or the name of another input")
            checked.append((op, float(operand) if not isinstance(operand, str) else operand))
        return checked

    def _checked_weights(self, shapes: dict[str, tuple[int, ...]]) -> dict[str, np.ndarray]:
        given = self.weights
        if not isinstance(given, Mapping):
            given = list(given)
            if len(given) != len(shapes):
                raise SpecError("weights", f"{len(given)} arrays for {len(shapes)} weights",
                                f"give them in Keras order: {', '.join(shapes)}")
            given = dict(zip(shapes, given, strict=True))
        if set(given) != set(shapes):
            raise SpecError("weights", f"names {sorted(given)} != expected {list(shapes)}",
                            "name weights <layer name>_kernel / <layer name>_bias")
        weights = {}
        for n, shape in shapes.items():
            arr = np.asarray(given[n], dtype=np.float64)
            if arr.shape != shape:
                raise SpecError(f"weights[{n!r}]", f"shape {arr.shape} != {shape}",
                                "give weights in the shapes the layers have")
            weights[n] = arr
        return weights

    def _check_inputs(self, inputs: Mapping[str, np.ndarray], targets: Mapping[str, Any]) -> None:
        expected = {BODY_INPUT, *self.head_inputs}
        if set(inputs) != expected:
            raise SpecError("inputs", f"names {sorted(inputs)} != {sorted(expected)}",
                            "give x and every input the head uses")
        x_shape = np.shape(inputs[BODY_INPUT])
        if len(x_shape) != 2 or x_shape[1] != self.input_dim:
            raise SpecError("inputs['x']", f"shape {x_shape} is not (batch, {self.input_dim})",
                            "give x as a batch of rows of input_dim features")
        allowed = {TARGET, SAMPLE_WEIGHT} if self.losses else set()
        if self.losses and TARGET not in targets:
            raise SpecError("targets", f"no {TARGET!r} for the {self.objective} loss",
                            "give the targets y")
        extra = set(targets) - allowed
        if extra:
            raise SpecError("targets",
                            f"unexpected {sorted(extra)} for objective {self.objective!r}",
                            "give y and sample_weight, and only for a loss objective")
        if SAMPLE_WEIGHT in targets and np.shape(targets[SAMPLE_WEIGHT]) != x_shape[:1]:
            raise SpecError("targets['sample_weight']",
                            f"shape {np.shape(targets[SAMPLE_WEIGHT])} != ({x_shape[0]},)",
                            "give one weight per sample")


def weight_shapes(layers: Sequence[Layer], input_dim: int) -> dict[str, tuple[int, ...]]:
    """Weight name -> shape of a layer stack on ``input_dim`` features, in Keras order."""
    shapes, width = {}, input_dim
    for layer in _auto_named(tuple(layers)):
        if layer.class_name == "Dense":
            units = int(layer.config["units"])
            for kind in layer.weight_kinds:
                shapes[param_name(layer, kind)] = (width, units) if kind == "kernel" else (units,)
            width = units
    return shapes


def param_name(layer: Layer, kind: str) -> str:
    """The array name of one weight: ``<layer name>_<kernel|bias>``, a Python identifier."""
    return f"{layer.name}_{kind}"


def _auto_named(layers: tuple[Layer, ...]) -> tuple[Layer, ...]:
    counts: dict[str, int] = {}
    named = []
    for layer in layers:
        if not isinstance(layer, Layer):
            raise SpecError("layers", f"{layer!r} is not a Layer",
                            "build layers with Dense(...), Dropout(...), Activation(...)")
        base = re.sub(r"(?<!^)(?=[A-Z])", "_", layer.class_name).lower()
        k = counts[base] = counts.get(base, -1) + 1
        name = layer.config.get("name") or f"{base}_{k}"
        named.append(Layer(layer.class_name, {**layer.config, "name": _identifier(name)}))
    names = [layer.name for layer in named]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise SpecError("layers", f"layer names {', '.join(dupes)} repeat", "name layers uniquely")
    return tuple(named)


def _identifier(name: Any) -> str:
    if not isinstance(name, str) or not name:
        raise SpecError("layers", f"layer name {name!r} is not a string",
                        "name layers with strings")
    ident = re.sub(r"\W", "_", name)
    return ident if ident.isidentifier() else f"layer_{ident}"
