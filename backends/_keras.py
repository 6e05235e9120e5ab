"""Build a :class:`~conformance.model.ModelSpec` as a real Keras model, in tf-keras or Keras 3.

Both Kerases take the same layer classes and configs, so one builder (:func:`build_body`)
serves the TF adapters (``tf.keras`` is tf-keras there) and the Keras 3 adapters: a
``Sequential`` on an ``Input`` when the spec is a plain stack on one input (how seeds 000-003
build theirs), otherwise a Functional ``keras.Model`` with the spec's inputs, calling each
layer on its inbound ones. :func:`build_tf_keras_model` wraps it for the TF adapters
(``tf-eager``, ``tf-graph``): the model with its head, variables and graph tensors.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from backends import _tf
from conformance.model import BODY_INPUT, SAMPLE_WEIGHT, TARGET, ModelSpec, param_name
from conformance.spec import Spec


def build_body(keras: Any, model: ModelSpec, dtype: str, batch: int) -> tuple[Any, dict[str, Any]]:
    """The Keras model of ``model`` in ``dtype`` with a static batch size, and its variables
    by weight name."""
    inputs = {n: keras.Input(shape=shape, batch_size=batch, dtype=dtype, name=n)
              for n, shape in model.input_shapes.items()}
    layers = {step.layer.name: _layer(keras, step.layer, dtype) for step in model.steps}
    if len(inputs) == 1 and not any(step.layer.inbound for step in model.steps):
        body = keras.Sequential([*inputs.values(), *layers.values()])
    else:
        values = dict(inputs)
        for step in model.steps:
            args = [values[n] for n in step.inbound]
            values[step.layer.name] = layers[step.layer.name](
                args if step.layer.math.merges else args[0])
        body = keras.Model(list(inputs.values()), values[model.steps[-1].layer.name])
    variables = {}
    for step in model.steps:
        held = layers[step.layer.name].weights
        if [tuple(v.shape) for v in held] != list(step.weights.values()):
            raise RuntimeError(f"Keras layer {step.layer.name!r} holds weights of shapes "
                               f"{[tuple(v.shape) for v in held]}, expected {step.weights}")
        variables.update({param_name(step.layer, k): v
                          for k, v in zip(step.weights, held, strict=True)})
    return body, variables


def _layer(keras: Any, layer: Any, dtype: str) -> Any:
    config = layer.keras_config(dtype)
    return getattr(keras.layers, config["class_name"]).from_config(config["config"])


#: Model-spec loss objective -> the Keras loss class computing it.
LOSS_CLASSES: dict[str, str] = {
    "mse": "MeanSquaredError",
    "categorical_crossentropy": "CategoricalCrossentropy",
    "sparse_categorical_crossentropy": "SparseCategoricalCrossentropy",
}


def keras_objective(keras: Any, objective: str, output: Any, arrays: Mapping[str, Any],
                    total: Callable[[Any], Any], **loss_options: Any) -> Any:
    """The spec's objective of a model output: itself, ``total(output)``, or Keras's own loss
    class (``loss_options`` go to its constructor, e.g. Keras 3's ``dtype``)."""
    if objective == "output":
        return output
    if objective == "sum":
        return total(output)
    loss = getattr(keras.losses, LOSS_CLASSES[objective])(**loss_options)
    return loss(arrays[TARGET], output, sample_weight=arrays.get(SAMPLE_WEIGHT))


@dataclass
class KerasModel:
    """A real tf_keras model built from a ModelSpec, and where its arrays go."""

    spec: ModelSpec
    model: Any
    #: Array names in the order the model takes its inputs.
    input_names: tuple[str, ...]
    #: Weight array name -> the tf.Variable holding it.
    variables: dict[str, Any]
    #: In graph mode: the model's input placeholders by name and its output tensor.
    graph_inputs: dict[str, Any]
    graph_output: Any

    def call(self, arrays: Mapping[str, Any], training: bool) -> Any:
        """The model applied to the input arrays, as ``model(x, training=...)``."""
        inputs = [arrays[n] for n in self.input_names]
        return self.model(inputs if len(inputs) > 1 else inputs[0], training=training)

    def objective(self, output: Any, arrays: Mapping[str, Any]) -> Any:
        """The spec's objective of the model output, with Keras's own loss classes."""
        tf = _tf.tensorflow()
        return keras_objective(tf.keras, self.spec.objective, output, arrays, tf.reduce_sum)


def build_tf_keras_model(spec: Spec) -> KerasModel:
    """Build ``spec.model`` as tf_keras layers in ``spec.dtype``, with static batch shapes, in
    the current mode (eager, or the graph that is the default when it is called).

    The body is built by :func:`build_body` (a ``Sequential`` on an ``Input``, or a
    Functional model). A head wraps it, as seed 004 wraps its hidden model, in a subclassed
    ``keras.Model`` whose ``call`` applies :meth:`~conformance.model.ModelSpec.apply_head`.
    """
    tf = _tf.tensorflow()
    keras = tf.keras
    model_spec: ModelSpec = spec.model
    batch = spec.arrays[model_spec.input_names[0]].shape[0]
    body, variables = build_body(keras, model_spec, spec.dtype, batch)
    if not model_spec.head:
        return KerasModel(model_spec, body, model_spec.input_names, variables,
                          dict(zip(model_spec.input_names, body.inputs, strict=True)),
                          body.output)
    names = (BODY_INPUT, *model_spec.head_inputs)
    model = _head_model_class(keras)(body, model_spec, names, dtype=spec.dtype)
    inputs, output = {}, None
    if not tf.executing_eagerly():
        inputs = {n: keras.Input(shape=spec.arrays[n].shape[1:], batch_size=batch,
                                 dtype=spec.dtype, name=n) for n in names}
        output = model([inputs[n] for n in names])
    return KerasModel(model_spec, model, names, variables, inputs, output)


@functools.cache
def _head_model_class(keras: Any) -> type:
    class HeadModel(keras.Model):
        """Seed 004's custom model: a hidden model, then elementwise ops with other inputs."""

        def __init__(self, hidden: Any, spec: ModelSpec, names: tuple[str, ...],
                     dtype: str) -> None:
            super().__init__(dtype=dtype)  # else Keras autocasts float64 inputs to float32
            self.hidden, self.model_spec, self.names = hidden, spec, names

        def call(self, inputs: list, training: Any = None) -> Any:
            arrays = dict(zip(self.names, inputs, strict=True))
            return self.model_spec.apply_head(
                self.hidden(arrays[BODY_INPUT], training=training), arrays)

    return HeadModel
