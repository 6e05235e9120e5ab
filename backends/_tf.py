"""TensorFlow imported and configured, and the base class of the tf-eager and tf-graph adapters.

:func:`tensorflow` imports TensorFlow the way both adapters need it: ``TF_USE_LEGACY_KERAS=1``
(so ``tf.keras`` and ``tf.compat.v1.keras.backend`` are tf-keras, with ``K.gradients``,
``K.function`` and the learning phase) and ``TF_ENABLE_ONEDNN_OPTS=0`` (oneDNN's
order-dependent numerics off) set before the import, TF32 off, and numpy behavior on so
``tensorflow.experimental.numpy`` runs specs written for numpy (``x @ W``, ``.T``). If
TensorFlow was already imported with Keras 3, it raises :class:`Keras3Error` saying how to fix it.

:func:`core` is TensorFlow with only the numerics pinned (what Keras 3's TensorFlow engine
runs on). The numpy namespace function specs run on is :mod:`backends._tnp`'s; real tf_keras
models are built by :func:`backends._keras.build_tf_keras_model`.
"""

from __future__ import annotations

import functools
import os
import sys
from typing import Any

from backends import _tnp
from backends.base import Backend

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
    """TensorFlow was imported with Keras 3 as ``tf.keras`` before tf-keras could be selected."""


@functools.cache
def core() -> Any:
    """TensorFlow with the numerics every TF-based adapter pins (oneDNN and TF32 off), and
    ``tf.keras`` left alone: what Keras 3's TensorFlow engine (``keras-tf``) runs on."""
    if "tensorflow" not in sys.modules:
        os.environ["TF_ENABLE_ONEDNN_OPTS"] = IMPORT_ENV["TF_ENABLE_ONEDNN_OPTS"]
    import tensorflow as tf

    tf.config.experimental.enable_tensor_float_32_execution(False)
    # whole tracebacks: where an exception was raised tells the framework's refusal
    # (UNSUPPORTED) from the adapter's fault (ERROR), see Backend.refusal
    tf.debugging.disable_traceback_filtering()
    return tf


@functools.cache
def tensorflow() -> Any:
    """Import and configure TensorFlow once per process (see the module docstring)."""
    if "tensorflow" not in sys.modules:
        os.environ.update(IMPORT_ENV)
    tf = core()
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
    tnp.experimental_enable_numpy_behavior(prefer_float32=False)
    return tf


def dense(gradient: Any) -> Any:
    """A gradient as a dense tensor: a gather's (``take``, embedding lookup) comes back as
    ``tf.IndexedSlices``, which numpy and the output contract cannot take."""
    tf = core()  # also under Keras 3's TensorFlow engine (keras-tf)
    return tf.convert_to_tensor(gradient) if isinstance(gradient, tf.IndexedSlices) \
        else gradient


def numpy_namespace() -> Any:
    """The configured TensorFlow's numpy namespace (:func:`backends._tnp.numpy_namespace`)."""
    return _tnp.numpy_namespace(tensorflow())


class TensorFlowBackend(Backend):
    """What both TF adapters share: requirements, pinned numerics, the namespace's gaps."""

    extra = "tf"
    requires = REQUIRES
    no_rule_messages = (r"^LookupError: (No gradient defined for operation|"
                        r"gradient registry has no entry for)",)

    def numerics(self) -> dict[str, str]:
        return dict(NUMERICS)

    def namespace(self) -> Any:
        return numpy_namespace()
