"""Read a user's Keras model (tf-keras or Keras 3, Sequential or Functional) as layer
descriptions, input shapes and weights, through ``get_config()`` and ``get_weights()`` only.

Both Kerases write a layer as ``{"class_name", "config", ...}``; they differ in how an input
shape is written (``batch_input_shape`` in tf-keras, ``batch_shape`` in Keras 3) and how a
Functional layer names what it is called on (``inbound_nodes``: nested ``[name, 0, 0, {}]``
lists in tf-keras, ``{"keras_history": [name, 0, 0]}`` tensors in Keras 3). No framework is
imported here.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import numpy as np

from conformance.spec import SpecError

BODY_INPUT = "x"


def read_keras_model(model: Any) -> tuple[list[Any], dict[str, tuple[int, ...]], dict[str, Any]]:
    """``(layers, input name -> per-sample shape, weight name -> array)`` of a Keras model."""
    from conformance.model import Layer, param_name

    config = model.get_config()
    if not isinstance(config, Mapping) or not isinstance(config.get("layers"), list):
        raise SpecError("model", f"{type(model).__name__} is not a Sequential or Functional "
                        "model", "pass a keras.Sequential or a keras.Model(inputs, outputs)")
    functional = "input_layers" in config
    entries = config["layers"]
    inputs: dict[str, tuple[int, ...]] = {}
    layers, renamed = [], {}
    for entry in entries:
        layer_config = dict(entry.get("config", {}))
        shape = layer_config.get("batch_input_shape") or layer_config.get("batch_shape")
        keras_name = entry.get("name", layer_config.get("name"))
        if entry.get("class_name") == "InputLayer":
            name = _identifier(keras_name) if functional else BODY_INPUT
            inputs[name], renamed[keras_name] = _per_sample(shape, keras_name), name
            continue
        if shape and not inputs:  # a Sequential whose first layer got input_shape=...
            inputs[BODY_INPUT] = _per_sample(shape, keras_name)
        inbound = ()
        if functional:
            nodes = entry.get("inbound_nodes") or []
            if len(nodes) != 1:
                raise SpecError(f"layers[{keras_name!r}]", f"is called {len(nodes)} times",
                                "gradparity reads layers called once (no shared layers)")
            inbound = tuple(renamed.get(n, _identifier(n)) for n in _history(nodes[0]))
        layer = Layer(entry.get("class_name"), {**layer_config, "name": keras_name}, inbound)
        layers.append(layer)
        renamed[keras_name] = _identifier(keras_name)
    if functional:
        inputs = {renamed[n]: inputs[renamed[n]] for n in _names(config["input_layers"])}
        outputs = _names(config["output_layers"])
        if len(outputs) != 1 or not layers or renamed.get(outputs[0]) != layers[-1].name:
            raise SpecError("model", f"outputs {outputs} are not its last layer alone",
                            "read models with one output, computed by the last layer")
    if not inputs:
        raise SpecError("model", "has no input shape",
                        "build the model (give it an Input or input_shape) before reading it")
    weights = {}
    for layer in layers:
        arrays = [np.asarray(w) for w in model.get_layer(layer.config["name"]).get_weights()]
        kinds = layer.weight_kinds
        if len(arrays) != len(kinds):
            raise SpecError(f"layers[{layer.name!r}]", f"has {len(arrays)} weights, expected "
                            f"{', '.join(kinds) or 'none'}", "build the model before reading it")
        weights.update({param_name(layer, k): a for k, a in zip(kinds, arrays, strict=True)})
    return layers, inputs, weights


def _per_sample(shape: Any, name: str) -> tuple[int, ...]:
    dims = tuple(shape or ())[1:]
    if not dims or any(d is None for d in dims):
        raise SpecError(f"layers[{name!r}]", f"input shape {shape} is not fully known",
                        "give the Input a static per-sample shape")
    return tuple(int(d) for d in dims)


def _history(node: Any) -> list[str]:
    """The layer names a node's inputs come from, in order, in either Keras's writing."""
    if isinstance(node, Mapping):
        history = node.get("config", {}).get("keras_history") if "config" in node else None
        if history:
            return [history[0]]
        return [n for key in ("args", "kwargs") if key in node for n in _history(node[key])]
    if isinstance(node, list | tuple):
        if len(node) >= 3 and isinstance(node[0], str) and isinstance(node[1], int):
            return [node[0]]
        return [n for item in node for n in _history(item)]
    return []


def _names(layers: Any) -> list[str]:
    """Layer names from ``input_layers``/``output_layers`` (one ``[name, 0, 0]`` or a list)."""
    if isinstance(layers, list | tuple) and layers and isinstance(layers[0], str):
        return [layers[0]]
    return [entry[0] for entry in layers]


def _identifier(name: str) -> str:
    ident = re.sub(r"\W", "_", str(name))
    return ident if ident.isidentifier() else f"layer_{ident}"
