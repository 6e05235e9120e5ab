"""TensorFlow setup and real tf_keras models, shared by the ``tf-eager`` and ``tf-graph`` adapters.

:func:`tensorflow` imports TensorFlow the way both adapters need it: ``TF_USE_LEGACY_KERAS=1``
(so ``tf.keras`` and ``tf.compat.v1.keras.backend`` are tf-keras, with ``K.gradients``,
``K.function`` and the learning phase) and ``TF_ENABLE_ONEDNN_OPTS=0`` (oneDNN's
order-dependent numerics off) set before the import, TF32 off, and numpy behavior on so
``tensorflow.experimental.numpy`` runs specs written for numpy (``x @ W``, ``.T``). If
TensorFlow was already imported with Keras 3, it raises :class:`Keras3Error` saying how to fix it.

:func:`numpy_namespace` is ``tensorflow.experimental.numpy`` with what it lacks supplied from
TensorFlow's own API: the array-API names (``acos``, ``atan2``, ``pow``, ``concat``...) and
``linalg``. What it still lacks makes a case UNSUPPORTED naming it (``backends._namespace``).

:func:`build_keras_model` turns a :class:`~conformance.model.ModelSpec` into a real tf_keras
model in the current mode (eager, or the graph that is the default when it is called).
"""

from __future__ import annotations

import functools
import os
import sys
import types
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from backends._keras import build_body, keras_objective
from backends.base import Backend, Unsupported
from conformance.model import BODY_INPUT, ModelSpec
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
    """TensorFlow was imported with Keras 3 as ``tf.keras`` before tf-keras could be selected."""


@functools.cache
def core() -> Any:
    """TensorFlow with the numerics every TF-based adapter pins (oneDNN and TF32 off), and
    ``tf.keras`` left alone: what Keras 3's TensorFlow engine (``keras-tf``) runs on."""
    if "tensorflow" not in sys.modules:
        os.environ["TF_ENABLE_ONEDNN_OPTS"] = IMPORT_ENV["TF_ENABLE_ONEDNN_OPTS"]
    import tensorflow as tf

    tf.config.experimental.enable_tensor_float_32_execution(False)
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


#: Array-API and numpy names that tensorflow.experimental.numpy spells another way.
ALIASES: dict[str, str] = {
    "acos": "arccos", "asin": "arcsin", "atan": "arctan", "acosh": "arccosh",
    "asinh": "arcsinh", "atanh": "arctanh", "atan2": "arctan2", "pow": "power",
    "concat": "concatenate", "permute_dims": "transpose", "degrees": "rad2deg",
    "radians": "deg2rad", "trunc": "fix",
}


class _Namespace:
    """``tensorflow.experimental.numpy`` plus what specs use that it lacks, from TF's own API:
    the :data:`ALIASES`, ``rint``, ``fmod`` and the ``linalg`` functions; and ``log2``,
    ``log10``, ``logaddexp2`` in the input's dtype (tnp's return float64 for float32 input:
    measured, TensorFlow 2.21)."""

    def __init__(self, tnp: Any, tf: Any) -> None:
        self._tnp = tnp
        self.log2 = lambda x: _log_base(tf, x, 2.0)
        self.log10 = lambda x: _log_base(tf, x, 10.0)
        self.logaddexp2 = lambda x, y: _logaddexp2(tf, tnp, x, y)
        self.rint = tf.math.rint
        self.fmod = tf.truncatemod  # C's fmod: the remainder takes the dividend's sign
        self.linalg = types.SimpleNamespace(
            norm=lambda x, ord=None, axis=None, keepdims=False: _norm(tf, x, ord, axis, keepdims),
            solve=lambda a, b: _solve(tf, a, b),
            inv=tf.linalg.inv, det=tf.linalg.det, slogdet=tf.linalg.slogdet,
            cholesky=tf.linalg.cholesky, eigh=tf.linalg.eigh, eigvalsh=tf.linalg.eigvalsh,
            qr=lambda a, mode="reduced": _qr(tf, a, mode),
            svd=lambda a, full_matrices=True, compute_uv=True: _svd(tf, a, full_matrices,
                                                                   compute_uv),
            pinv=tf.linalg.pinv,
            matrix_power=lambda a, n: _matrix_power(tf, a, n),
            multi_dot=lambda arrays: functools.reduce(tnp.matmul, arrays))

    def __getattr__(self, name: str) -> Any:
        return getattr(self._tnp, ALIASES.get(name, name))


def _norm(tf: Any, x: Any, ord: Any, axis: Any, keepdims: bool) -> Any:  # noqa: A002 - numpy's name
    """numpy's ``linalg.norm`` on ``tf.norm``: a 2-d array without ``axis`` is a matrix."""
    if ord is not None and axis is None and len(x.shape) == 2:
        axis = (-2, -1)
    if ord == "nuc":
        s = tf.linalg.svd(x if axis is None else tf.experimental.numpy.moveaxis(
            x, axis, (-2, -1)), compute_uv=False)
        norm = tf.reduce_sum(s, axis=-1)
        if keepdims:
            raise Unsupported("xp.linalg.norm(ord='nuc', keepdims=True) on TensorFlow")
        return norm
    try:
        return tf.norm(x, ord="euclidean" if ord is None else ord,
                       axis=tuple(axis) if isinstance(axis, list) else axis, keepdims=keepdims)
    except ValueError as exc:
        raise Unsupported(f"xp.linalg.norm(ord={ord!r}) on TensorFlow: {exc}") from None


def _log_base(tf: Any, x: Any, base: float) -> Any:
    """``log(x) / log(base)`` with the constant in ``x``'s dtype, so float32 stays float32."""
    x = tf.convert_to_tensor(x)
    return tf.math.log(x) / tf.math.log(tf.constant(base, x.dtype))


def _logaddexp2(tf: Any, tnp: Any, x: Any, y: Any) -> Any:
    """``log2(2**x + 2**y)`` as ``logaddexp(x ln 2, y ln 2) / ln 2``, in the inputs' dtype."""
    x, y = tf.convert_to_tensor(x), tf.convert_to_tensor(y)
    ln2 = tf.math.log(tf.constant(2.0, x.dtype))
    return tnp.logaddexp(x * ln2, y * ln2) / ln2


def _solve(tf: Any, a: Any, b: Any) -> Any:
    """numpy's solve: a vector right-hand side is a vector, not a one-column matrix."""
    if len(b.shape) == len(a.shape) - 1:
        return tf.linalg.solve(a, b[..., None])[..., 0]
    return tf.linalg.solve(a, b)


def _qr(tf: Any, a: Any, mode: str) -> Any:
    """numpy's ``qr`` modes ``reduced``, ``complete`` and ``r`` on ``tf.linalg.qr``."""
    q, r = tf.linalg.qr(a, full_matrices=mode == "complete")
    return r if mode == "r" else (q, r)


def _svd(tf: Any, a: Any, full_matrices: bool, compute_uv: bool) -> Any:
    """numpy's ``svd``: ``(u, s, vh)``, where ``tf.linalg.svd`` returns ``(s, u, v)``."""
    if not compute_uv:
        return tf.linalg.svd(a, compute_uv=False)
    s, u, v = tf.linalg.svd(a, full_matrices=full_matrices)
    return u, s, tf.linalg.adjoint(v)


def _matrix_power(tf: Any, a: Any, n: int) -> Any:
    """``a`` to an integer power by repeated products (``inv`` first for a negative one)."""
    base = tf.linalg.inv(a) if n < 0 else a
    result = tf.eye(a.shape[-1], batch_shape=a.shape[:-2], dtype=a.dtype)
    for _ in range(abs(n)):
        result = result @ base
    return result


@functools.cache
def numpy_namespace() -> Any:
    """``tensorflow.experimental.numpy``, configured, with ``linalg`` supplied."""
    tf = tensorflow()
    import tensorflow.experimental.numpy as tnp

    return _Namespace(tnp, tf)


def scan(step: Callable[[Any, Any], tuple[Any, Any]], carry: Any, xs: Any) -> tuple[Any, Any]:
    """The specs' ``scan`` (``jax.lax.scan`` semantics) as ``tf.scan``, in eager and graph mode.

    ``tf.scan`` carries one structure and stacks it at every step, so the step's ``(carry,
    y)`` is that structure; the first step runs before the loop, which gives the initial
    ``y`` its structure (and the carry the dtypes the step returns).
    """
    tf = core()
    length = tf.nest.flatten(xs)[0].shape[0]
    carry, y = step(carry, tf.nest.map_structure(lambda a: a[0], xs))
    if length == 1:
        return carry, tf.nest.map_structure(lambda a: a[None], y)
    rest = tf.nest.map_structure(lambda a: a[1:], xs)
    if y is None:
        carries = tf.scan(lambda state, x: step(state, x)[0], rest, initializer=carry)
        return tf.nest.map_structure(lambda c: c[-1], carries), None
    carries, ys = tf.scan(lambda state, x: step(state[0], x), rest, initializer=(carry, y))
    return (tf.nest.map_structure(lambda c: c[-1], carries),
            tf.nest.map_structure(lambda first, others: tf.concat([first[None], others], 0),
                                  y, ys))


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
        tf = tensorflow()
        return keras_objective(tf.keras, self.spec.objective, output, arrays, tf.reduce_sum)


def build_keras_model(spec: Spec) -> KerasModel:
    """Build ``spec.model`` as tf_keras layers in ``spec.dtype``, with static batch shapes.

    The body is built by :func:`backends._keras.build_body` (a ``Sequential`` on an
    ``Input``, or a Functional model). A head wraps it, as seed 004 wraps its hidden model, in
    a subclassed ``keras.Model`` whose ``call`` applies the head's ops.
    """
    tf = tensorflow()
    keras = tf.keras
    model_spec: ModelSpec = spec.model
    batch = spec.arrays[model_spec.input_names[0]].shape[0]
    body, variables = build_body(keras, model_spec, spec.dtype, batch)
    if not model_spec.head:
        return KerasModel(model_spec, body, model_spec.input_names, variables,
                          dict(zip(model_spec.input_names, body.inputs, strict=True)),
                          body.output)
    names = (BODY_INPUT, *model_spec.head_inputs)
    model = _head_model_class(keras)(body, model_spec.head, names, dtype=spec.dtype)
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

        def __init__(self, hidden: Any, head: tuple, names: tuple[str, ...], dtype: str) -> None:
            super().__init__(dtype=dtype)  # else Keras autocasts float64 inputs to float32
            self.hidden, self.head, self.names = hidden, head, names

        def call(self, inputs: list, training: Any = None) -> Any:
            arrays = dict(zip(self.names, inputs, strict=True))
            output = self.hidden(arrays[BODY_INPUT], training=training)
            for op, operand in self.head:
                other = arrays[operand] if isinstance(operand, str) else operand
                output = output + other if op == "add" else output * other
            return output

    return HeadModel


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
