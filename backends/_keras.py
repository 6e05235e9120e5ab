"""Build a :class:`~conformance.model.ModelSpec` as a real Keras model, in tf-keras or Keras 3.

Both Kerases take the same layer classes and configs, so one builder serves the TF adapters
(``tf.keras`` is tf-keras there) and the Keras 3 adapters: a ``Sequential`` on an ``Input``
when the spec is a plain stack on one input (how seeds 000-003 build theirs), otherwise a
Functional ``keras.Model`` with the spec's inputs, calling each layer on its inbound ones.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from conformance.model import SAMPLE_WEIGHT, TARGET, ModelSpec, param_name


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
