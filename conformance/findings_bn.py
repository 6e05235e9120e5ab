"""The learning-phase mistake of BatchNormalization models, found by its deterministic trace.

Dropout in training mode shows itself by randomness (two identical calls differ).
BatchNormalization in training mode does not: it normalizes with the batch's own statistics
instead of the moving ones, the same way at every call. Its trace is that the wrong answer
*is* the right answer of the same model in training mode. :func:`batchnorm_training`
computes that reference (the spec's model with ``training=True``, at the base call's arrays)
and names the mistake ``learning-phase`` when the answer matches it.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np

from conformance.findings import Finding
from conformance.probes import References
from conformance.reference import compute_reference
from conformance.spec import Spec
from conformance.tolerance import compare


def batchnorm_training(spec: Spec, references: References, output: dict[str, Any]
                       ) -> Finding | None:
    """``learning-phase`` when an inference-mode BN model's answer matches training mode."""
    model = spec.model
    if model is None or model.training or not any(
            layer.class_name == "BatchNormalization" for layer in model.layers):
        return None
    trained = model.with_training(True)
    as_training = replace(spec, fn=trained.apply, model=trained)
    reference = compute_reference(as_training, references.calls[0].arrays)
    keys = [("value", np.asarray(output["value"]), reference.value,
             np.zeros_like(reference.value))]
    keys += [(n, reference.observe(spec, n, output[n]), reference.expected[n],
              reference.uncertainty[n]) for n in spec.wrt]
    if all(compare(k, got, expected, error, spec.dtype).passed
           for k, got, expected, error in keys):
        return Finding("learning-phase", "the answer matches the model with "
                       "BatchNormalization in training mode (the batch's own statistics, not "
                       "the moving ones): training=True where inference was meant")
    return None
