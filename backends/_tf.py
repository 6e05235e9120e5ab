"""TensorFlow setup and real tf_keras models, shared by the ``tf-eager`` and ``tf-graph`` adapters.

:func:`tensorflow` imports TensorFlow the way both adapters need it: ``TF_USE_LEGACY_KERAS=1``
(so ``tf.keras`` and ``tf.compat.v1.keras.backend`` are tf-keras, with ``K.gradients``,
``K.function`` and the learning phase) and ``TF_ENABLE_ONEDNN_OPTS=0`` (oneDNN's
order-dependent numerics off) set before the import, TF32 off, and numpy behavior on so
``tensorflow.experimental.numpy`` runs specs written for numpy (``x @ W``, ``.T``). If
TensorFlow was already imported with Keras 3, it raises :class:`Keras3Error` saying how to fix it.

:func:`build_keras_model` turns a :class:`~conformance.model.ModelSpec` into a real tf_keras
model in the current mode (eager, or the graph that is the default when it is called).
"""

from __future__ import annotations

import functools
import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from conformance.model import BODY_INPUT, SAMPLE_WEIGHT, TARGET, ModelSpec, param_name
from conformance.spec import Spec

#: Environment TensorFlow must see when it is imported.
IMPORT_ENV: dict[str, str] = {"TF_USE_LEGACY_KERAS": "1", "TF_ENABLE_ONEDNN_OPTS": "0"}
#: Importable module -> distribution, for both TF adapters.
REQUIRES: dict[str, str] = {"tensorflow": "tensorflow", "tf_keras": "tf-keras"}
#: Numeric settings both TF adapters pin (shown in the run header).
NUMERICS: dict[str, str] = {
    "TF_ENABLE_ONEDNN_OPTS": "0",
    "tensor_float_32_execution": "False",
    "numpy_behavior": "prefer_float32=False",
}


class Keras3Error(RuntimeError):
    """TensorFlow was imported with Keras 3 as ``tf.keras`` before the TF adapters could pick tf-keras."""


@functools.cache
def tensorflow() -> Any:
    """Import and configure TensorFlow once per process (see the module docstring)."""
    if "tensorflow" not in sys.modules:
        os.environ.update(IMPORT_ENV)
    import tensorflow as tf
    import tensorflow.experimental.numpy as tnp

    keras_module = getattr(tf.keras, "__name__", "")
    if not keras_module.startswith("tf_keras"):
        raise Keras3Error(
            f"TensorFlow was imported with Keras 3 as tf.keras ({keras_module or tf.keras}), so "
            "the TF adapters cannot use tf-keras (K.gradients, K.function, the learning phase). "
            "Fix: set TF_USE_LEGACY_KERAS=1 before TensorFlow is first imported (export it in "
            "the shell, or os.environ['TF_USE_LEGACY_KERAS'] = '1' at the very top of your "
            "script or conftest.py) and install tf-keras matching your TensorFlow "
            "(pip install 'gradparity[tf]').")
    tf.config.experimental.enable_tensor_float_32_execution(False)
    tnp.experimental_enable_numpy_behavior(prefer_float32=False)
    return tf


def numpy_namespace() -> Any:
    """``tensorflow.experimental.numpy``, configured."""
    tensorflow()
    import tensorflow.experimental.numpy as tnp

    return tnp


@dataclass
class KerasModel:
    """A real tf_keras model built from a ModelSpec, and where its arrays go."""

    spec: ModelSpec
    model: Any
    #: Array names in the order of ``model.inputs``.
    input_names: tuple[str, ...]
    #: Weight array name -> the tf.Variable holding it.
    variables: dict[str, Any]

    def call(self, arrays: Mapping[str, Any], training: bool) -> Any:
        """The model applied to the input arrays, as ``model(x, training=...)``."""
        inputs = [arrays[n] for n in self.input_names]
        return self.model(inputs if len(inputs) > 1 else inputs[0], training=training)

    def objective(self, output: Any, arrays: Mapping[str, Any]) -> Any:
        """The spec's objective of the model output, with Keras's own loss classes."""
        tf = tensorflow()
        objective = self.spec.objective
        if objective == "output":
            return output
        if objective == "sum":
            return tf.reduce_sum(output)
        loss = (tf.keras.losses.MeanSquaredError() if objective == "mse"
                else tf.keras.losses.CategoricalCrossentropy())
        return loss(arrays[TARGET], output, sample_weight=arrays.get(SAMPLE_WEIGHT))


def build_keras_model(spec: Spec) -> KerasModel:
    """Build ``spec.model`` as tf_keras layers in ``spec.dtype``, with static batch shapes.

    A model without a head is a ``Sequential``; a head wraps that Sequential (the hidden
    model) in a functional model over all inputs, as seed 004 wraps its hidden model.
    """
    tf = tensorflow()
    keras = tf.keras
    model_spec: ModelSpec = spec.model

    def keras_input(name: str) -> Any:
        shape = spec.arrays[name].shape
        return keras.Input(shape=shape[1:], batch_size=shape[0], dtype=spec.dtype, name=name)

    body = keras.Sequential(
        [keras_input(BODY_INPUT)]
        + [keras.layers.deserialize(layer.keras_config(spec.dtype)) for layer in model_spec.layers])
    variables = {}
    for layer in model_spec.layers:
        for kind in layer.weight_kinds:
            variables[param_name(layer, kind)] = getattr(body.get_layer(layer.name), kind)
    if not model_spec.head:
        return KerasModel(model_spec, body, (BODY_INPUT,), variables)
    names = (BODY_INPUT, *model_spec.head_inputs)
    inputs = {n: keras_input(n) for n in names}
    output = body(inputs[BODY_INPUT])
    for op, operand in model_spec.head:
        other = inputs[operand] if isinstance(operand, str) else operand
        output = output + other if op == "add" else output * other
    model = keras.Model(inputs=[inputs[n] for n in names], outputs=output)
    return KerasModel(model_spec, model, names, variables)
