"""Keras layers as math: config keys, weight order and shapes, output shapes, ``xp`` forwards.

One :class:`LayerMath` per Keras class, under Keras's class name. Weights are listed in the
order the Keras layer holds them (``layer.weights``: ``kernel, bias``; ``gamma, beta,
moving_mean, moving_variance``; ``kernel, recurrent_kernel, bias``). The forwards use only
functions the four numpy-like namespaces share (``numpy``, ``jax.numpy``, ``autograd.numpy``,
``tensorflow.experimental.numpy``): convolution as a matmul over stacked shifted slices,
pooling as max/mean over them, LSTM and GRU as a Python loop over time steps. Shapes here
are per sample (no batch axis), channels last.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from conformance.spec import SpecError

Shape = tuple[int, ...]
Config = dict[str, Any]


def _softmax(xp: Any, z: Any) -> Any:
    e = xp.exp(z - xp.max(z, axis=-1, keepdims=True))
    return e / xp.sum(e, axis=-1, keepdims=True)


#: Keras activation name -> the same function written against a numpy-like ``xp``.
ACTIVATIONS: dict[str, Callable[[Any, Any], Any]] = {
    "linear": lambda xp, z: z,
    # z * (z > 0): derivative 0 at the kink, as tf.nn.relu has it
    "relu": lambda xp, z: z * (z > 0),
    "sigmoid": lambda xp, z: 1 / (1 + xp.exp(-z)),
    "tanh": lambda xp, z: xp.tanh(z),
    "softmax": lambda xp, z: _softmax(xp, z),
}


@dataclass(frozen=True)
class LayerMath:
    """What gradparity knows of one Keras layer class."""

    #: Config keys read (anything else in a Keras config does not change the math).
    keys: tuple[str, ...]
    #: Keras's defaults for the keys that have one.
    defaults: Mapping[str, Any]
    #: ``check(where, config)`` normalizes a config in place or raises SpecError.
    check: Callable[[str, Config], None]
    #: ``weights(config)``: the weight kinds in Keras order.
    weights: Callable[[Config], tuple[str, ...]]
    #: ``shapes(where, config, input shapes)``: (weight kind -> shape, output shape).
    shapes: Callable[[str, Config, list[Shape]], tuple[dict[str, Shape], Shape]]
    #: ``forward(xp, config, inputs, weights, training)``: the layer's output for a batch.
    forward: Callable[[Any, Config, list, dict[str, Any], bool], Any]
    #: Whether it takes several inputs (Concatenate, Add).
    merges: bool = False


# -- config checks ------------------------------------------------------------------------

def _positive_int(where: str, key: str, value: Any) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise SpecError(f"{where}.{key}", f"{value!r} is not a positive integer",
                        f"give {key} a positive integer")
    return int(value)


def _pair(where: str, key: str, value: Any) -> tuple[int, int]:
    pair = (value, value) if isinstance(value, int) else tuple(value or ())
    if len(pair) != 2:
        raise SpecError(f"{where}.{key}", f"{value!r} is not an int or a pair",
                        f"give {key} as n or (n, n)")
    return (_positive_int(where, key, pair[0]), _positive_int(where, key, pair[1]))


def _activation(where: str, activation: Any) -> str:
    name = "linear" if activation is None else activation
    if name not in ACTIVATIONS:
        raise SpecError(where, f"unsupported activation {activation!r}",
                        f"use one of {', '.join(ACTIVATIONS)}")
    return name


def _one_of(where: str, key: str, value: Any, allowed: Sequence[Any]) -> None:
    if value not in allowed:
        raise SpecError(f"{where}.{key}", f"{value!r} is not supported",
                        f"use {' or '.join(map(repr, allowed))}")


def _channels_last(where: str, config: Config) -> None:
    _one_of(where, "data_format", config.pop("data_format", None) or "channels_last",
            ["channels_last"])


def _last_axis(where: str, axis: Any, rank: int) -> None:
    axes = list(axis) if isinstance(axis, list | tuple) else [axis]
    if len(axes) != 1 or axes[0] not in (-1, rank - 1):
        raise SpecError(f"{where}.axis", f"{axis!r} is not the last (feature) axis",
                        "normalize over axis=-1 (channels last)")


def _check_dense(where: str, config: Config) -> None:
    config["units"] = _positive_int(where, "units", config.get("units"))
    config["activation"] = _activation(f"{where}.activation", config["activation"])


def _check_conv(where: str, config: Config) -> None:
    config["filters"] = _positive_int(where, "filters", config.get("filters"))
    config["kernel_size"] = _pair(where, "kernel_size", config.get("kernel_size"))
    config["strides"] = _pair(where, "strides", config["strides"])
    _one_of(where, "padding", config["padding"], ["valid", "same"])
    _channels_last(where, config)
    _one_of(where, "dilation_rate", _pair(where, "dilation_rate",
                                          config.pop("dilation_rate", 1)), [(1, 1)])
    _one_of(where, "groups", config.pop("groups", 1), [1])
    config["activation"] = _activation(f"{where}.activation", config["activation"])


def _check_pool(where: str, config: Config) -> None:
    config["pool_size"] = _pair(where, "pool_size", config["pool_size"])
    config["strides"] = _pair(where, "strides", config.get("strides") or config["pool_size"])
    _one_of(where, "padding", config["padding"], ["valid"])
    _channels_last(where, config)


def _check_rate(where: str, config: Config) -> None:
    for key in ("rate", "dropout", "recurrent_dropout"):
        rate = config.get(key, 0.0)
        if not isinstance(rate, int | float) or isinstance(rate, bool) or not 0 <= rate < 1:
            raise SpecError(f"{where}.{key}", f"{rate!r} is not in [0, 1)",
                            f"give {key} a rate 0 <= rate < 1")


def _check_recurrent(where: str, config: Config) -> None:
    config["units"] = _positive_int(where, "units", config.get("units"))
    for key in ("activation", "recurrent_activation"):
        config[key] = _activation(f"{where}.{key}", config[key])
    _check_rate(where, config)
    for key in ("go_backwards", "return_state", "stateful", "time_major"):
        _one_of(where, key, config.pop(key, False), [False])


def _check_embedding(where: str, config: Config) -> None:
    for key in ("input_dim", "output_dim"):
        config[key] = _positive_int(where, key, config.get(key))
    _one_of(where, "mask_zero", config.pop("mask_zero", False), [False])


def _check_activation_layer(where: str, config: Config) -> None:
    config["activation"] = _activation(f"{where}.activation", config.get("activation"))


def _no_check(where: str, config: Config) -> None:
    return None


# -- shapes ---------------------------------------------------------------------------------

def _out_size(size: int, kernel: int, stride: int, padding: str) -> int:
    if padding == "same":
        return math.ceil(size / stride)
    return (size - kernel) // stride + 1


def _spatial(where: str, config: Config, shape: Shape, window: tuple[int, int]) -> Shape:
    if len(shape) != 3:
        raise SpecError(where, f"input shape {shape} is not (height, width, channels)",
                        "feed 2D layers images of shape (batch, height, width, channels)")
    out = tuple(_out_size(n, k, s, config["padding"])
                for n, k, s in zip(shape[:2], window, config["strides"], strict=True))
    if min(out) < 1:
        raise SpecError(where, f"window {window} does not fit the input {shape[:2]}",
                        "use a larger input or a smaller window")
    return out


def _conv_shapes(where: str, config: Config, shapes: list[Shape]) -> tuple[dict, Shape]:
    (shape,) = shapes
    out = _spatial(where, config, shape, config["kernel_size"])
    weights = {"kernel": (*config["kernel_size"], shape[-1], config["filters"]),
               "bias": (config["filters"],)}
    return _used(weights, config), (*out, config["filters"])


def _pool_shapes(where: str, config: Config, shapes: list[Shape]) -> tuple[dict, Shape]:
    (shape,) = shapes
    return {}, (*_spatial(where, config, shape, config["pool_size"]), shape[-1])


def _dense_shapes(where: str, config: Config, shapes: list[Shape]) -> tuple[dict, Shape]:
    (shape,) = shapes
    weights = {"kernel": (shape[-1], config["units"]), "bias": (config["units"],)}
    return _used(weights, config), (*shape[:-1], config["units"])


def _norm_shapes(where: str, config: Config, shapes: list[Shape]) -> tuple[dict, Shape]:
    (shape,) = shapes
    _last_axis(where, config["axis"], len(shape) + 1)
    features = (shape[-1],)
    return {"gamma": features, "beta": features, "moving_mean": features,
            "moving_variance": features}, shape


def _layer_norm_shapes(where: str, config: Config, shapes: list[Shape]) -> tuple[dict, Shape]:
    weights, shape = _norm_shapes(where, config, shapes)
    return {k: s for k, s in weights.items() if not k.startswith("moving")}, shape


def _embedding_shapes(where: str, config: Config, shapes: list[Shape]) -> tuple[dict, Shape]:
    (shape,) = shapes
    return ({"embeddings": (config["input_dim"], config["output_dim"])},
            (*shape, config["output_dim"]))


def _recurrent_shapes(gates: int) -> Callable[[str, Config, list[Shape]], tuple[dict, Shape]]:
    def shapes_of(where: str, config: Config, shapes: list[Shape]) -> tuple[dict, Shape]:
        (shape,) = shapes
        if len(shape) != 2:
            raise SpecError(where, f"input shape {shape} is not (timesteps, features)",
                            "feed recurrent layers sequences (batch, timesteps, features)")
        units = config["units"]
        bias = (2, gates * units) if config.get("reset_after") else (gates * units,)
        weights = {"kernel": (shape[-1], gates * units),
                   "recurrent_kernel": (units, gates * units), "bias": bias}
        out = (shape[0], units) if config["return_sequences"] else (units,)
        return _used(weights, config), out
    return shapes_of


def _same_shapes(where: str, config: Config, shapes: list[Shape]) -> tuple[dict, Shape]:
    if any(s != shapes[0] for s in shapes):
        raise SpecError(where, f"input shapes {shapes} differ", "add arrays of one shape")
    return {}, shapes[0]


def _concat_shapes(where: str, config: Config, shapes: list[Shape]) -> tuple[dict, Shape]:
    _last_axis(where, config["axis"], len(shapes[0]) + 1)
    if any(s[:-1] != shapes[0][:-1] for s in shapes):
        raise SpecError(where, f"input shapes {shapes} differ before the last axis",
                        "concatenate arrays that differ in the last axis only")
    return {}, (*shapes[0][:-1], sum(s[-1] for s in shapes))


def _flatten_shapes(where: str, config: Config, shapes: list[Shape]) -> tuple[dict, Shape]:
    return {}, (math.prod(shapes[0]),)


def _unchanged(where: str, config: Config, shapes: list[Shape]) -> tuple[dict, Shape]:
    return {}, shapes[0]


def _used(weights: dict[str, Shape], config: Config) -> dict[str, Shape]:
    """Drop the bias of a layer with ``use_bias=False``."""
    return {k: s for k, s in weights.items() if k != "bias" or config.get("use_bias", True)}


def _biased(*kinds: str) -> Callable[[Config], tuple[str, ...]]:
    return lambda config: kinds + (("bias",) if config["use_bias"] else ())


def _norm_weights(moving: bool) -> Callable[[Config], tuple[str, ...]]:
    def kinds(config: Config) -> tuple[str, ...]:
        affine = (("gamma",) if config["scale"] else ()) + (("beta",) if config["center"] else ())
        return affine + (("moving_mean", "moving_variance") if moving else ())
    return kinds


# -- forwards -------------------------------------------------------------------------------

def shape_of(x: Any) -> Shape:
    """The static shape of an array or tensor (a symbolic graph's variable carries it in its
    type, as pytensor's does, where ``x.shape`` is itself symbolic)."""
    static = getattr(getattr(x, "type", None), "shape", None)
    dims = static if isinstance(static, tuple) and None not in static else x.shape
    return tuple(int(n) for n in dims)


def _dense(xp: Any, config: Config, inputs: list, w: dict, training: bool) -> Any:
    h = inputs[0] @ w["kernel"]
    if config["use_bias"]:
        h = h + w["bias"]
    return ACTIVATIONS[config["activation"]](xp, h)


def _pad(xp: Any, x: Any, axis: int, before: int, after: int) -> Any:
    """``x`` with zeros before and after along ``axis`` (concatenate: every namespace has it)."""
    parts = []
    for size in (before, after):
        shape = list(shape_of(x))
        shape[axis] = size
        parts.append(xp.zeros(tuple(shape), dtype=x.dtype) if size else None)
    return xp.concatenate([p for p in (parts[0], x, parts[1]) if p is not None], axis=axis)


def _windows(x: Any, window: tuple[int, int], strides: tuple[int, int],
             out: tuple[int, int]) -> list:
    """The shifted strided slices of ``x`` (batch, h, w, c), one per window offset, row-major."""
    return [x[:, i:i + strides[0] * (out[0] - 1) + 1:strides[0],
              j:j + strides[1] * (out[1] - 1) + 1:strides[1], :]
            for i in range(window[0]) for j in range(window[1])]


def _conv2d(xp: Any, config: Config, inputs: list, w: dict, training: bool) -> Any:
    x = inputs[0]
    batch, height, width, channels = shape_of(x)
    kernel, strides = config["kernel_size"], config["strides"]
    out = tuple(_out_size(n, k, s, config["padding"])
                for n, k, s in zip((height, width), kernel, strides, strict=True))
    if config["padding"] == "same":  # TensorFlow's split: the odd pixel goes after
        for axis, n, k, s, o in ((1, height, *kernel[:1], strides[0], out[0]),
                                 (2, width, kernel[1], strides[1], out[1])):
            total = max((o - 1) * s + k - n, 0)
            x = _pad(xp, x, axis, total // 2, total - total // 2)
    patches = xp.stack(_windows(x, kernel, strides, out), axis=3)
    flat = xp.reshape(patches, (batch, *out, kernel[0] * kernel[1] * channels))
    h = flat @ xp.reshape(w["kernel"], (kernel[0] * kernel[1] * channels, config["filters"]))
    if config["use_bias"]:
        h = h + w["bias"]
    return ACTIVATIONS[config["activation"]](xp, h)


def _pool(reduce: str) -> Callable[..., Any]:
    def pool(xp: Any, config: Config, inputs: list, w: dict, training: bool) -> Any:
        x = inputs[0]
        out = tuple(_out_size(n, k, s, "valid") for n, k, s in
                    zip(shape_of(x)[1:3], config["pool_size"], config["strides"], strict=True))
        stacked = xp.stack(_windows(x, config["pool_size"], config["strides"], out), axis=0)
        return getattr(xp, reduce)(stacked, axis=0)
    return pool


def _flatten(xp: Any, config: Config, inputs: list, w: dict, training: bool) -> Any:
    x = inputs[0]
    return xp.reshape(x, (shape_of(x)[0], -1))


def _normalized(xp: Any, config: Config, x: Any, mean: Any, variance: Any, w: dict) -> Any:
    h = (x - mean) / xp.sqrt(variance + config["epsilon"])
    if config["scale"]:
        h = h * w["gamma"]
    if config["center"]:
        h = h + w["beta"]
    return h


def _batch_norm(xp: Any, config: Config, inputs: list, w: dict, training: bool) -> Any:
    """Training: the batch's statistics (biased variance); inference: the moving ones."""
    x = inputs[0]
    if not training:
        return _normalized(xp, config, x, w["moving_mean"], w["moving_variance"], w)
    axes = tuple(range(x.ndim - 1))
    mean = xp.mean(x, axis=axes)
    return _normalized(xp, config, x, mean, xp.mean((x - mean) ** 2, axis=axes), w)


def _layer_norm(xp: Any, config: Config, inputs: list, w: dict, training: bool) -> Any:
    x = inputs[0]
    mean = xp.mean(x, axis=-1, keepdims=True)
    return _normalized(xp, config, x, mean, xp.mean((x - mean) ** 2, axis=-1, keepdims=True), w)


def _embedding(xp: Any, config: Config, inputs: list, w: dict, training: bool) -> Any:
    """Rows of the table at the token ids (float arrays of whole numbers are cast to int)."""
    return w["embeddings"][inputs[0].astype("int32")]


def _lstm(xp: Any, config: Config, inputs: list, w: dict, training: bool) -> Any:
    """Keras's LSTM: gates i, f, c, o in the columns of kernel, recurrent_kernel and bias."""
    act = ACTIVATIONS[config["activation"]]
    gate = ACTIVATIONS[config["recurrent_activation"]]
    u, x = config["units"], inputs[0]
    h = c = None
    states = []
    for t in range(shape_of(x)[1]):
        z = x[:, t, :] @ w["kernel"]
        if config["use_bias"]:
            z = z + w["bias"]
        if h is not None:
            z = z + h @ w["recurrent_kernel"]
        i, f = gate(xp, z[:, :u]), gate(xp, z[:, u:2 * u])
        g, o = act(xp, z[:, 2 * u:3 * u]), gate(xp, z[:, 3 * u:])
        c = i * g if c is None else f * c + i * g
        h = o * act(xp, c)
        states.append(h)
    return xp.stack(states, axis=1) if config["return_sequences"] else h


def _gru(xp: Any, config: Config, inputs: list, w: dict, training: bool) -> Any:
    """Keras's GRU: gates z, r, h; ``reset_after`` applies the reset gate after the matmul."""
    act = ACTIVATIONS[config["activation"]]
    gate = ACTIVATIONS[config["recurrent_activation"]]
    u, x, after = config["units"], inputs[0], config["reset_after"]
    bias = w.get("bias")
    input_bias = (bias[0] if after else bias) if bias is not None else None
    recurrent_bias = bias[1] if bias is not None and after else None
    kernel = w["recurrent_kernel"]
    h = None
    states = []
    for t in range(shape_of(x)[1]):
        xz = x[:, t, :] @ w["kernel"]
        if input_bias is not None:
            xz = xz + input_bias
        inner = h @ kernel if h is not None else None  # h0 = 0
        if recurrent_bias is not None:
            inner = recurrent_bias if inner is None else inner + recurrent_bias
        zr = xz[:, :2 * u] if inner is None else xz[:, :2 * u] + (
            inner[..., :2 * u] if after else h @ kernel[:, :2 * u])
        z, r = gate(xp, zr[:, :u]), gate(xp, zr[:, u:])
        if after:
            candidate = xz[:, 2 * u:] + (0 if inner is None else r * inner[..., 2 * u:])
        else:
            candidate = xz[:, 2 * u:] + (0 if h is None else (r * h) @ kernel[:, 2 * u:])
        hh = act(xp, candidate)
        h = (1 - z) * hh if h is None else z * h + (1 - z) * hh
        states.append(h)
    return xp.stack(states, axis=1) if config["return_sequences"] else h


def _identity(xp: Any, config: Config, inputs: list, w: dict, training: bool) -> Any:
    return inputs[0]


def _activation_forward(xp: Any, config: Config, inputs: list, w: dict, training: bool) -> Any:
    return ACTIVATIONS[config["activation"]](xp, inputs[0])


def _concatenate(xp: Any, config: Config, inputs: list, w: dict, training: bool) -> Any:
    return xp.concatenate(list(inputs), axis=-1)


def _add(xp: Any, config: Config, inputs: list, w: dict, training: bool) -> Any:
    total = inputs[0]
    for other in inputs[1:]:
        total = total + other
    return total


_RECURRENT_KEYS = ("name", "units", "activation", "recurrent_activation", "use_bias",
                   "return_sequences", "dropout", "recurrent_dropout", "go_backwards",
                   "return_state", "stateful", "time_major")
_RECURRENT_DEFAULTS = {"activation": "tanh", "recurrent_activation": "sigmoid",
                       "use_bias": True, "return_sequences": False}
_NORM_DEFAULTS = {"axis": -1, "epsilon": 1e-3, "center": True, "scale": True}

#: Keras class name -> its math. The supported layers.
LAYERS: dict[str, LayerMath] = {
    "Dense": LayerMath(("name", "units", "activation", "use_bias"),
                       {"activation": "linear", "use_bias": True}, _check_dense,
                       _biased("kernel"), _dense_shapes, _dense),
    "Conv2D": LayerMath(("name", "filters", "kernel_size", "strides", "padding", "data_format",
                         "dilation_rate", "groups", "activation", "use_bias"),
                        {"strides": 1, "padding": "valid", "activation": "linear",
                         "use_bias": True}, _check_conv, _biased("kernel"), _conv_shapes,
                        _conv2d),
    "MaxPooling2D": LayerMath(("name", "pool_size", "strides", "padding", "data_format"),
                              {"pool_size": 2, "padding": "valid"}, _check_pool,
                              lambda config: (), _pool_shapes, _pool("max")),
    "AveragePooling2D": LayerMath(("name", "pool_size", "strides", "padding", "data_format"),
                                  {"pool_size": 2, "padding": "valid"}, _check_pool,
                                  lambda config: (), _pool_shapes, _pool("mean")),
    "Flatten": LayerMath(("name", "data_format"), {}, _channels_last, lambda config: (),
                         _flatten_shapes, _flatten),
    "BatchNormalization": LayerMath(("name", "axis", "epsilon", "center", "scale"),
                                    _NORM_DEFAULTS, _no_check, _norm_weights(True),
                                    _norm_shapes, _batch_norm),
    "LayerNormalization": LayerMath(("name", "axis", "epsilon", "center", "scale"),
                                    _NORM_DEFAULTS, _no_check, _norm_weights(False),
                                    _layer_norm_shapes, _layer_norm),
    "Embedding": LayerMath(("name", "input_dim", "output_dim", "mask_zero"), {},
                           _check_embedding, lambda config: ("embeddings",),
                           _embedding_shapes, _embedding),
    "LSTM": LayerMath(_RECURRENT_KEYS, _RECURRENT_DEFAULTS, _check_recurrent,
                      _biased("kernel", "recurrent_kernel"), _recurrent_shapes(4), _lstm),
    "GRU": LayerMath((*_RECURRENT_KEYS, "reset_after"), {**_RECURRENT_DEFAULTS,
                                                        "reset_after": True},
                     _check_recurrent, _biased("kernel", "recurrent_kernel"),
                     _recurrent_shapes(3), _gru),
    "Dropout": LayerMath(("name", "rate"), {}, _check_rate, lambda config: (), _unchanged,
                         _identity),
    "Activation": LayerMath(("name", "activation"), {}, _check_activation_layer,
                            lambda config: (), _unchanged, _activation_forward),
    "Concatenate": LayerMath(("name", "axis"), {"axis": -1}, _no_check, lambda config: (),
                             _concat_shapes, _concatenate, merges=True),
    "Add": LayerMath(("name",), {}, _no_check, lambda config: (), _same_shapes, _add,
                     merges=True),
}


def normalized_config(class_name: str, config: Mapping[str, Any], where: str) -> Config:
    """The keys of ``config`` that matter, with Keras's defaults, checked (SpecError if not)."""
    if class_name not in LAYERS:
        raise SpecError(where, f"unsupported layer class {class_name!r}",
                        f"use one of {', '.join(LAYERS)}")
    math_ = LAYERS[class_name]
    normalized = {**math_.defaults, **{k: config[k] for k in math_.keys if k in config}}
    if "rate" in math_.keys and "rate" not in normalized:
        normalized["rate"] = None  # a Dropout needs its rate
    math_.check(where, normalized)
    return normalized
