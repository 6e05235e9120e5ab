"""Model specs: a small Keras-compatible layer description plus weights, compiled to ``fn``.

Layers use Keras's class names, config keys and activation names (``Dense(units, activation,
use_bias)``, ``Conv2D``, ``BatchNormalization``, ``LSTM``, ...; the list and their math are in
:mod:`conformance.layers`); weights are in Keras order (per layer, ``layer.weights``). A
Sequential stack runs on one input ``x``; a Functional model names its inputs (``input_dim``
as name -> per-sample shape) and what each layer is called on (``Layer.inbound``). A
:class:`ModelSpec` also says what is differentiated: the model ``output``, its ``sum`` (what
``K.gradients(model.output, ...)`` and ``tape.gradient(output, ...)`` differentiate), or a
Keras loss (``mse``, ``categorical_crossentropy``, ``sparse_categorical_crossentropy``, with
optional per-sample weights); and whether the model runs in training mode (``training``:
BatchNormalization uses the batch's statistics; Dropout with a rate is refused there). A
``head`` of elementwise ops on the body's output against constants or further inputs
describes multi-input models such as seed 004's ``(hidden_model(x) + 1) * reference_prices``.

:meth:`ModelSpec.spec` turns it into an ordinary :class:`~conformance.spec.Spec` whose ``fn``
is the compiled model (so JAX, autograd and the reference need nothing special) and whose
``model`` attribute is the ModelSpec, from which TF adapters build a real tf_keras model.
Array names: the inputs (``x``, or a Functional model's input names), head inputs by their
own names, targets ``y`` and ``sample_weight``, and weights ``<layer name>_<weight>``
(``dense_0_kernel``, ``batch_normalization_0_moving_mean``). An Embedding's input holds token
ids: an integer array (given role ``index`` by :meth:`ModelSpec.spec`, so it reaches every
backend unchanged), or whole numbers in a float array, cast to int inside the forward.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from conformance.layers import LAYERS, LayerMath, Shape, normalized_config, shape_of
from conformance.spec import Spec, SpecError, is_index_dtype

#: What a model spec differentiates.
LOSSES: tuple[str, ...] = ("mse", "categorical_crossentropy", "sparse_categorical_crossentropy")
OBJECTIVES: tuple[str, ...] = ("output", "sum", *LOSSES)
#: Elementwise ops of a head: the running output op a constant or another input.
HEAD_OPS: tuple[str, ...] = ("add", "multiply")
BODY_INPUT = "x"
TARGET, SAMPLE_WEIGHT = "y", "sample_weight"
#: Layer classes a model spec supports, with their config keys, weights and math.
LAYER_KEYS: dict[str, tuple[str, ...]] = {name: math.keys for name, math in LAYERS.items()}
#: Weight kinds that are Keras's non-trainable state (not differentiated w.r.t. by default).
STATE_KINDS: tuple[str, ...] = ("moving_mean", "moving_variance")


@dataclass(frozen=True)
class Layer:
    """One layer as Keras writes it: ``class_name``, the config keys that matter, and (in a
    Functional model) the names of the layers or inputs it is called on (``inbound``; empty:
    the previous layer, or the model's input for the first layer)."""

    class_name: str
    config: Mapping[str, Any]
    inbound: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        where = f"layers[{self.config.get('name', self.class_name)!r}]"
        config = normalized_config(self.class_name, self.config, where)
        object.__setattr__(self, "config", config)
        inbound = (self.inbound,) if isinstance(self.inbound, str) else tuple(self.inbound)
        if not all(isinstance(n, str) for n in inbound):
            raise SpecError(f"{where}.inbound", f"{self.inbound!r} holds something other "
                            "than names", "name the layers or inputs it is called on")
        object.__setattr__(self, "inbound", inbound)

    @property
    def name(self) -> str:
        return self.config["name"]

    @property
    def math(self) -> LayerMath:
        """Its entry in :data:`conformance.layers.LAYERS`."""
        return LAYERS[self.class_name]

    @property
    def weight_kinds(self) -> tuple[str, ...]:
        """Its weights in Keras order."""
        return self.math.weights(self.config)

    def keras_config(self, dtype: str) -> dict[str, Any]:
        """The ``{"class_name", "config"}`` dict ``tf.keras.layers.deserialize`` takes."""
        return {"class_name": self.class_name, "config": {**self.config, "dtype": dtype}}


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


def Conv2D(filters: int, kernel_size: int | tuple[int, int],  # noqa: N802 - Keras name
           strides: int | tuple[int, int] = 1, padding: str = "valid",
           activation: str = "linear", use_bias: bool = True, name: str | None = None) -> Layer:
    """A Keras ``Conv2D`` layer description (channels last)."""
    return Layer("Conv2D", _named({"filters": filters, "kernel_size": kernel_size,
                                   "strides": strides, "padding": padding,
                                   "activation": activation, "use_bias": use_bias}, name))


def MaxPooling2D(pool_size: int | tuple[int, int] = 2, strides: Any = None,  # noqa: N802
                 name: str | None = None) -> Layer:
    """A Keras ``MaxPooling2D`` layer description (padding 'valid')."""
    return Layer("MaxPooling2D", _named({"pool_size": pool_size, "strides": strides}, name))


def AveragePooling2D(pool_size: int | tuple[int, int] = 2, strides: Any = None,  # noqa: N802
                     name: str | None = None) -> Layer:
    """A Keras ``AveragePooling2D`` layer description (padding 'valid')."""
    return Layer("AveragePooling2D", _named({"pool_size": pool_size, "strides": strides}, name))


def Flatten(name: str | None = None) -> Layer:  # noqa: N802 - Keras name
    """A Keras ``Flatten`` layer description."""
    return Layer("Flatten", _named({}, name))


def BatchNormalization(epsilon: float = 1e-3, center: bool = True,  # noqa: N802 - Keras name
                       scale: bool = True, name: str | None = None) -> Layer:
    """A Keras ``BatchNormalization`` layer description (feature axis last)."""
    return Layer("BatchNormalization", _named({"epsilon": epsilon, "center": center,
                                               "scale": scale}, name))


def LayerNormalization(epsilon: float = 1e-3, center: bool = True,  # noqa: N802 - Keras name
                       scale: bool = True, name: str | None = None) -> Layer:
    """A Keras ``LayerNormalization`` layer description (over the last axis)."""
    return Layer("LayerNormalization", _named({"epsilon": epsilon, "center": center,
                                               "scale": scale}, name))


def Embedding(input_dim: int, output_dim: int, name: str | None = None) -> Layer:  # noqa: N802
    """A Keras ``Embedding`` layer description; its input holds token ids."""
    return Layer("Embedding", _named({"input_dim": input_dim, "output_dim": output_dim}, name))


def LSTM(units: int, return_sequences: bool = False, activation: str = "tanh",  # noqa: N802
         recurrent_activation: str = "sigmoid", use_bias: bool = True,
         name: str | None = None) -> Layer:
    """A Keras ``LSTM`` layer description."""
    return Layer("LSTM", _named({"units": units, "return_sequences": return_sequences,
                                 "activation": activation,
                                 "recurrent_activation": recurrent_activation,
                                 "use_bias": use_bias}, name))


def GRU(units: int, return_sequences: bool = False, reset_after: bool = True,  # noqa: N802
        activation: str = "tanh", recurrent_activation: str = "sigmoid", use_bias: bool = True,
        name: str | None = None) -> Layer:
    """A Keras ``GRU`` layer description (``reset_after=True``: Keras 2+'s default)."""
    return Layer("GRU", _named({"units": units, "return_sequences": return_sequences,
                                "reset_after": reset_after, "activation": activation,
                                "recurrent_activation": recurrent_activation,
                                "use_bias": use_bias}, name))


def Concatenate(inbound: Sequence[str], name: str | None = None) -> Layer:  # noqa: N802
    """A Keras ``Concatenate`` (last axis) of the named layers' or inputs' outputs."""
    return Layer("Concatenate", _named({}, name), tuple(inbound))


def Add(inbound: Sequence[str], name: str | None = None) -> Layer:  # noqa: N802 - Keras name
    """A Keras ``Add`` of the named layers' or inputs' outputs."""
    return Layer("Add", _named({}, name), tuple(inbound))


def _named(config: dict[str, Any], name: str | None) -> dict[str, Any]:
    return config if name is None else {**config, "name": name}


@dataclass(frozen=True)
class _Step:
    """One layer of the graph: what it is called on, its weight shapes, its output shape."""

    layer: Layer
    inbound: tuple[str, ...]
    weights: dict[str, Shape]
    output: Shape


@dataclass(frozen=True, eq=False)
class ModelSpec:
    """A Keras model (Sequential or Functional), an optional head, weights, and what to
    differentiate.

    ``input_dim`` is the width of the single input ``x``, or its per-sample shape (a tuple,
    e.g. ``(28, 28, 1)``), or, for a Functional model, a mapping of input name to per-sample
    shape (in the order the model takes its inputs). ``weights`` maps parameter names (see
    :attr:`weight_names`) to arrays, or is a list in that order (each layer's
    ``get_weights()``, layer after layer). Layers without a name are named ``<class>_<k>``.
    """

    layers: tuple[Layer, ...]
    input_dim: int | tuple[int, ...] | Mapping[str, tuple[int, ...]]
    weights: Mapping[str, np.ndarray] | Sequence[np.ndarray]
    head: tuple[tuple[str, float | str], ...] = ()
    objective: str = "output"
    training: bool = False
    weight_names: tuple[str, ...] = field(init=False, default=())
    input_shapes: dict[str, Shape] = field(init=False, default_factory=dict)
    steps: tuple[_Step, ...] = field(init=False, default=(), repr=False)

    def __post_init__(self) -> None:
        set_ = object.__setattr__  # frozen dataclass: store the normalized fields
        set_(self, "layers", _auto_named(tuple(self.layers)))
        set_(self, "input_shapes", _input_shapes(self.input_dim))
        if self.objective not in OBJECTIVES:
            raise SpecError("objective", f"unknown objective {self.objective!r}",
                            f"use one of {', '.join(OBJECTIVES)}")
        if self.training and any(layer.config.get(key, 0) > 0 for layer in self.layers
                                 for key in ("rate", "dropout", "recurrent_dropout")):
            raise SpecError("training", "Dropout with rate > 0 is random in training mode",
                            "use training=False (inference), or a Dropout rate of 0")
        set_(self, "head", tuple(self._checked_head()))
        set_(self, "steps", _walk(self.layers, self.input_shapes))
        shapes = self.weight_shapes
        set_(self, "weight_names", tuple(shapes))
        set_(self, "weights", self._checked_weights(shapes))

    # -- structure --------------------------------------------------------------------------

    @property
    def weight_shapes(self) -> dict[str, tuple[int, ...]]:
        """Parameter name -> shape, layer after layer, each in Keras's ``layer.weights`` order."""
        return {param_name(s.layer, k): shape for s in self.steps for k, shape in s.weights.items()}

    @property
    def input_names(self) -> tuple[str, ...]:
        """The names of the model's inputs, in the order the model takes them."""
        return tuple(self.input_shapes)

    @property
    def trainable_names(self) -> tuple[str, ...]:
        """The weights Keras trains (all but BatchNormalization's moving statistics)."""
        return tuple(n for n in self.weight_names if not n.endswith(STATE_KINDS))

    @property
    def index_inputs(self) -> dict[str, Layer]:
        """Inputs holding token ids (fed to an Embedding), with the Embedding they feed."""
        return {n: s.layer for s in self.steps if s.layer.class_name == "Embedding"
                for n in s.inbound if n in self.input_shapes}

    @property
    def head_inputs(self) -> tuple[str, ...]:
        """Names of the inputs besides the model's own that the head uses."""
        return tuple(dict.fromkeys(o for _, o in self.head if isinstance(o, str)))

    @property
    def losses(self) -> bool:
        return self.objective in LOSSES

    # -- math -------------------------------------------------------------------------------

    def forward(self, xp: Any, arrays: Mapping[str, Any]) -> Any:
        """The model output, computed with ``xp`` (``training`` picks BatchNormalization's
        statistics; Dropout is the identity)."""
        values = {n: arrays[n] for n in self.input_names}
        h = values[self.input_names[0]]
        for step in self.steps:
            weights = {k: arrays[param_name(step.layer, k)] for k in step.weights}
            h = step.layer.math.forward(xp, step.layer.config, [values[n] for n in step.inbound],
                                        weights, self.training)
            values[step.layer.name] = h
        return self.apply_head(h, arrays)

    def apply_head(self, output: Any, arrays: Mapping[str, Any]) -> Any:
        """The head's elementwise ops applied to the body's ``output`` (seed 004's
        ``(hidden(x) + 1) * prices``), operands read from ``arrays`` by name; the one
        definition of the head's arithmetic, for the ``xp`` forward and every Keras builder."""
        for op, operand in self.head:
            other = arrays[operand] if isinstance(operand, str) else operand
            output = output + other if op == "add" else output * other
        return output

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
        else:  # cross-entropies; Keras's clipping at 1e-7 is not reached by sane data
            if self.objective == "sparse_categorical_crossentropy":  # labels -> one-hot rows
                y = xp.equal(y[:, None], xp.arange(_width(out)))  # bool: keeps the output's dtype
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

        ``inputs`` holds the model's inputs (:attr:`input_names`) and the head's; ``targets``
        holds ``y`` (and optionally ``sample_weight``) for a loss objective. ``wrt`` may name
        inputs and weights, but not token ids. Integer token ids (an Embedding's input) and
        integer labels (``y`` of the sparse loss) get role ``index`` by themselves.
        """
        targets = dict(targets or {})
        self._check_inputs(inputs, targets)
        wrt = tuple([wrt] if isinstance(wrt, str) else wrt)
        for n in wrt:
            if n in self.index_inputs:
                raise SpecError("wrt", f"{n!r} holds the token ids of Embedding "
                                f"{self.index_inputs[n].name!r}, which have no derivative",
                                "differentiate w.r.t. the weights (or the embeddings)")
        return Spec(name=name, fn=self.apply, arrays={**inputs, **self.weights, **targets},
                    wrt=wrt, kind=kind, roles=self._roles(inputs, targets),
                    dtype=dtype, tangents=tangents or {}, cotangent=cotangent,
                    description=description, model=self, tags=tuple(tags))

    def _roles(self, inputs: Mapping[str, Any], targets: Mapping[str, Any]) -> dict[str, str]:
        """Each array's role: weights are params; integer token ids (an Embedding's input) and
        integer class labels (``y`` of the sparse loss) are index arrays, passed through
        unchanged; other inputs and targets are floats (SpecError naming the fix if not)."""
        roles = {n: "param" for n in self.weight_names}
        for group, arrays, role in (("inputs", inputs, "input"), ("targets", targets, "target")):
            for n, array in arrays.items():
                roles[n] = role
                if not is_index_dtype(np.asarray(array).dtype):
                    continue
                if n in self.index_inputs or (
                        n == TARGET and self.objective == "sparse_categorical_crossentropy"):
                    roles[n] = "index"
                    continue
                what = ("labels only for the sparse_categorical_crossentropy objective"
                        if group == "targets" else "token ids only at an Embedding's input")
                raise SpecError(f"{group}[{n!r}]", f"has dtype {np.asarray(array).dtype}; a model "
                                f"spec takes integer arrays as {what}",
                                f"give {n} as floats, e.g. np.asarray({n}, dtype=np.float64)")
        return roles

    def with_weights(self, weights: Mapping[str, np.ndarray] | Sequence[np.ndarray]) -> ModelSpec:
        """The same model with other weights (validated again)."""
        return replace(self, weights=weights)

    def with_training(self, training: bool) -> ModelSpec:
        """The same model in training (``True``) or inference mode."""
        return replace(self, training=training)

    @classmethod
    def from_keras(cls, model: Any, objective: str = "output", training: bool = False) -> ModelSpec:
        """A user's Sequential or Functional model, from tf-keras or Keras 3.

        Reads ``get_config()`` and each layer's ``get_weights()`` only, so no framework is
        imported. A Sequential model's input is ``x``; a Functional model's inputs keep their
        Keras names. Unsupported layers are a SpecError naming the layer.
        """
        from conformance.keras_config import read_keras_model

        layers, shapes, weights = read_keras_model(model)
        width = shapes.get(BODY_INPUT, ()) if len(shapes) == 1 else ()
        input_dim = width[0] if len(width) == 1 else shapes  # a plain width as before
        return cls(tuple(layers), input_dim, weights, objective=objective, training=training)

    # -- validation -------------------------------------------------------------------------

    def _checked_head(self) -> list[tuple[str, float | str]]:
        checked = []
        for i, step in enumerate(self.head):
            if not (isinstance(step, tuple | list) and len(step) == 2 and step[0] in HEAD_OPS):
                raise SpecError(f"head[{i}]", f"{step!r} is not (op, operand)",
                                f"use pairs like ('add', 1.0); ops: {', '.join(HEAD_OPS)}")
            op, operand = step
            if isinstance(operand, str):
                if not operand.isidentifier() or operand in (*self.input_names, TARGET,
                                                             SAMPLE_WEIGHT):
                    raise SpecError(f"head[{i}]", f"operand {operand!r} is not a free input name",
                                    "name a further input with a Python identifier")
            elif not isinstance(operand, int | float) or isinstance(operand, bool):
                raise SpecError(f"head[{i}]", f"operand {operand!r} is neither a number nor a name",
                                "use a constant or the name of another input")
            checked.append((op, float(operand) if not isinstance(operand, str) else operand))
        if checked and len(self.input_shapes) > 1:
            raise SpecError("head", "a head on a model with several inputs",
                            "write the extra ops as layers (Add, Concatenate) of the model")
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
                            "name weights <layer name>_<kind>, e.g. dense_0_kernel")
        weights = {}
        for n, shape in shapes.items():
            arr = np.asarray(given[n], dtype=np.float64)
            if arr.shape != shape:
                raise SpecError(f"weights[{n!r}]", f"shape {arr.shape} != {shape}",
                                "give weights in the shapes the layers have")
            weights[n] = arr
        return weights

    def _check_inputs(self, inputs: Mapping[str, np.ndarray], targets: Mapping[str, Any]) -> None:
        expected = {*self.input_names, *self.head_inputs}
        if set(inputs) != expected:
            raise SpecError("inputs", f"names {sorted(inputs)} != {sorted(expected)}",
                            f"give {', '.join(sorted(expected))}")
        batch = np.shape(inputs[self.input_names[0]])[:1]
        for n, shape in self.input_shapes.items():
            got = np.shape(inputs[n])
            if got[1:] != shape or got[:1] != batch:
                raise SpecError(f"inputs[{n!r}]", f"shape {got} is not {(*batch, *shape)}",
                                f"give {n} as a batch of per-sample shape {shape}")
        for n, embedding in self.index_inputs.items():
            ids = np.asarray(inputs[n])
            if np.any(ids != np.round(ids)) or ids.min() < 0 \
                    or ids.max() >= embedding.config["input_dim"]:
                raise SpecError(f"inputs[{n!r}]", "holds values that are not token ids "
                                f"0..{embedding.config['input_dim'] - 1}",
                                f"give whole numbers below Embedding {embedding.name!r}'s "
                                "input_dim")
        allowed = {TARGET, SAMPLE_WEIGHT} if self.losses else set()
        if self.losses and TARGET not in targets:
            raise SpecError("targets", f"no {TARGET!r} for the {self.objective} loss",
                            "give the targets y")
        extra = set(targets) - allowed
        if extra:
            raise SpecError("targets",
                            f"unexpected {sorted(extra)} for objective {self.objective!r}",
                            "give y and sample_weight, and only for a loss objective")
        if SAMPLE_WEIGHT in targets and np.shape(targets[SAMPLE_WEIGHT]) != batch:
            raise SpecError("targets['sample_weight']",
                            f"shape {np.shape(targets[SAMPLE_WEIGHT])} != ({batch[0]},)",
                            "give one weight per sample")


def _width(out: Any) -> int:
    return shape_of(out)[-1]


def _input_shapes(input_dim: Any) -> dict[str, Shape]:
    """``input_dim`` (a width, a per-sample shape, or name -> shape) as name -> shape."""
    given = input_dim if isinstance(input_dim, Mapping) else {BODY_INPUT: input_dim}
    shapes = {}
    for name, shape in given.items():
        shape = (shape,) if isinstance(shape, int | np.integer) else tuple(shape or ())
        if not (isinstance(name, str) and name.isidentifier()) or not shape or not all(
                isinstance(n, int | np.integer) and n >= 1 for n in shape):
            raise SpecError("input_dim", f"{name!r}: {shape!r} is not a named positive shape",
                            "give the width of x, its per-sample shape, or name -> shape")
        shapes[name] = tuple(int(n) for n in shape)
    if not shapes:
        raise SpecError("input_dim", "names no input", "give at least one input")
    return shapes


def _walk(layers: Sequence[Layer], inputs: Mapping[str, Shape]) -> tuple[_Step, ...]:
    """The layer graph with every layer's inputs and shapes resolved (SpecError if it does
    not fit together)."""
    shapes, previous, steps = dict(inputs), next(iter(inputs)), []
    for layer in layers:
        where = f"layers[{layer.name!r}]"
        if layer.name in inputs:
            raise SpecError(where, "is named like an input", "rename the layer or the input")
        inbound = layer.inbound or (previous,)
        unknown = [n for n in inbound if n not in shapes]
        if unknown:
            raise SpecError(f"{where}.inbound", f"{', '.join(unknown)} is no earlier layer "
                            "or input", f"call it on one of {', '.join(shapes)}")
        if layer.math.merges != (len(inbound) > 1):
            raise SpecError(f"{where}.inbound", f"{len(inbound)} inputs for a "
                            f"{layer.class_name}", "call merge layers (Add, Concatenate) on "
                            "several inputs and other layers on one")
        kinds, out = layer.math.shapes(where, layer.config, [shapes[n] for n in inbound])
        steps.append(_Step(layer, inbound, {k: kinds[k] for k in layer.weight_kinds}, out))
        shapes[layer.name] = out
        previous = layer.name
    return tuple(steps)


def weight_shapes(layers: Sequence[Layer], input_dim: Any) -> dict[str, tuple[int, ...]]:
    """Weight name -> shape of a layer stack on ``input_dim`` (as ModelSpec takes it)."""
    return {param_name(s.layer, k): shape
            for s in _walk(_auto_named(tuple(layers)), _input_shapes(input_dim))
            for k, shape in s.weights.items()}


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
        base = re.sub(r"(?<=[a-z])(?=[A-Z])", "_", layer.class_name).lower()
        k = counts[base] = counts.get(base, -1) + 1
        name = layer.config.get("name") or f"{base}_{k}"
        named.append(Layer(layer.class_name, {**layer.config, "name": _identifier(name)},
                           tuple(_identifier(n) for n in layer.inbound)))
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
