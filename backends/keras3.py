"""Keras 3 adapters: one Keras model, differentiated by each engine Keras 3 runs on.

``keras-jax``, ``keras-tf`` and ``keras-torch`` build a model spec as a real Keras 3 model
(the builder the TF adapters use for tf-keras, :mod:`backends._keras`) in the spec's dtype,
and compute its objective through ``model.stateless_call(trainable, non_trainable, inputs,
training=...)`` with the weights taken from the arrays, Keras 3's documented way to
differentiate a model with the engine's own API. The derivative methods are the engines'
own and shared with the other adapters: ``jax.value_and_grad``/``jacrev``/``jvp``/``vjp``
(the ``jax`` adapter's), ``tf.GradientTape``/``ForwardAccumulator`` in one ``tf.function``
(the ``tf-eager`` adapter's), and ``torch.autograd`` (``grad`` and
``torch.autograd.functional``).

Keras 3 picks its engine from ``KERAS_BACKEND`` once, when ``keras`` is first imported, so
each adapter sets it before that import and needs a process of its own (the harness runs
every backend in its own worker). In a process where Keras 3 is already loaded on another
engine, the adapter raises :class:`KerasEngineError` instead of silently running the wrong
engine. ``keras-tf`` imports TensorFlow without ``TF_USE_LEGACY_KERAS`` (Keras 3 does not
need it); the ``tf-eager``/``tf-graph`` adapters need it set before TensorFlow's import and
say so (``Keras3Error``) when a process already imported TensorFlow without it.

Function specs (no model) are UNSUPPORTED here: these adapters check Keras 3 models, and a
function written for ``xp`` runs on the engines' own adapters (``jax``, ``tf-eager``).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from typing import Any, ClassVar

import numpy as np

from backends import _keras, _tf
from backends.functional import Derivatives, FunctionalBackend, Objective
from backends.jax_backend import JaxBackend, _jax
from backends.tf_eager import TFEagerBackend
from conformance.spec import Spec


class KerasEngineError(RuntimeError):
    """Keras 3 is already loaded in this process on another engine than the one asked for."""


def keras3(engine: str) -> Any:
    """Keras 3 on ``engine`` (``jax``, ``tensorflow``, ``torch``), importing it if needed."""
    if "keras" not in sys.modules:
        os.environ["KERAS_BACKEND"] = engine
    import keras

    running = keras.backend.backend()
    if running != engine:
        raise KerasEngineError(
            f"Keras 3 is already running on {running!r} in this process, so it cannot run on "
            f"{engine!r}: KERAS_BACKEND is read once, when keras is first imported. Run each "
            "Keras 3 backend in its own process (gradparity's default workers do; do not use "
            "--in-process for them), or set KERAS_BACKEND before anything imports keras.")
    return keras


class Keras3Backend(FunctionalBackend):
    """What the three Keras 3 adapters share: the model, its objective, what they refuse."""

    extra = "keras"
    #: The ``KERAS_BACKEND`` value of the engine.
    engine: ClassVar[str] = ""
    #: The adapter that runs function specs on the same engine (named in UNSUPPORTED).
    function_backend: ClassVar[str] = ""
    #: Whether Keras 3 keeps float64 on this engine. Keras 3.15's type promotion
    #: (``BIT64_TO_BIT32_DTYPE`` in ``keras/src/backend/common/dtypes.py``) turns float64
    #: into float32 on every engine but TensorFlow, so float64 specs elsewhere would be
    #: computed partly in float32: UNSUPPORTED with that reason, not a misleading FAIL.
    keeps_float64: ClassVar[bool] = False
    #: The gradparity extra that installs the engine; None: pip installs it by name.
    engine_extra: ClassVar[str | None] = None
    #: Said after the install command when the engine is missing (where to get a build).
    engine_note: ClassVar[str] = ""

    def numerics(self) -> dict[str, str]:
        return {"KERAS_BACKEND": self.engine}

    def install_hint(self) -> str:
        """What installs the missing modules: the ``keras`` extra has Keras alone, so the
        engine comes from its own extra or, without one, from pip by name."""
        missing = set(self.missing_modules()) or set(self.requires)
        engine = list(dict.fromkeys(self.requires[m] for m in self.requires
                                    if m in missing and m != "keras"))
        extras = ["keras"] if "keras" in missing else []
        if engine and self.engine_extra:
            extras.append(self.engine_extra)
        words = [f"'gradparity[{','.join(extras)}]'"] if extras else []
        if not self.engine_extra:
            words += engine
        note = f" ({self.engine_note})" if engine and self.engine_note else ""
        return "pip install " + " ".join(words) + note

    def unsupported_reason(self, spec: Spec) -> str | None:
        if spec.model is None:
            return (f"{self.name} checks Keras 3 models; a function spec runs on the engine's "
                    f"own adapter ({self.function_backend})")
        if spec.dtype == "float64" and not self.keeps_float64:
            return (f"Keras 3 computes float64 in float32 on the {self.engine} engine (its type "
                    "promotion maps float64 to float32 outside TensorFlow); use keras-tf for "
                    "float64")
        return super().unsupported_reason(spec)

    def keras(self) -> Any:
        """Keras 3 on this adapter's engine."""
        return keras3(self.engine)

    def objective(self, spec: Spec) -> Objective:
        """The spec's objective of the Keras 3 model, through ``model.stateless_call``."""
        keras = self.keras()
        model = spec.model
        batch = spec.arrays[model.input_names[0]].shape[0]
        body, variables = _keras.build_body(keras, model, spec.dtype, batch)
        name_of = {id(v): n for n, v in variables.items()}

        def values(held: list, arrays: dict) -> list:
            """The arrays of the spec's weights; Keras's own state (Dropout's seed) as is."""
            return [arrays[name_of[id(v)]] if id(v) in name_of else v.value for v in held]

        def f(wrt: dict, fixed: dict) -> Any:
            arrays = {**fixed, **wrt}
            inputs = [arrays[n] for n in model.input_names]
            output, _ = body.stateless_call(values(body.trainable_variables, arrays),
                                            values(body.non_trainable_variables, arrays),
                                            inputs if len(inputs) > 1 else inputs[0],
                                            training=model.training)
            return _keras.keras_objective(keras, model.objective,
                                          model.apply_head(output, arrays), arrays,
                                          keras.ops.sum, dtype=spec.dtype)
        return f


class KerasJaxBackend(Keras3Backend, JaxBackend):
    """Keras 3 on JAX: ``jax.value_and_grad``, ``jacrev``, ``jvp``, ``vjp`` under ``jax.jit``."""

    name = "keras-jax"
    engine = "jax"
    function_backend = "jax"
    requires = {"keras": "keras", "jax": "jax", "jaxlib": "jaxlib"}
    engine_extra = "jax"

    def numerics(self) -> dict[str, str]:
        return {**JaxBackend.numerics(self), **Keras3Backend.numerics(self)}

    def keras(self) -> Any:
        _jax()  # float64 on, before Keras 3 makes its variables
        return super().keras()


class KerasTFBackend(Keras3Backend, TFEagerBackend):
    """Keras 3 on TensorFlow: ``tf.GradientTape`` (and ``ForwardAccumulator``) in a
    ``tf.function``."""

    name = "keras-tf"
    engine = "tensorflow"
    function_backend = "tf-eager"
    keeps_float64 = True
    requires = {"keras": "keras", "tensorflow": "tensorflow"}
    engine_extra = "tf"

    def numerics(self) -> dict[str, str]:
        return {"TF_ENABLE_ONEDNN_OPTS": _tf.NUMERICS["TF_ENABLE_ONEDNN_OPTS"],
                "tensor_float_32_execution": "False", **Keras3Backend.numerics(self)}

    def keras(self) -> Any:
        _tf.core()  # oneDNN and TF32 off, tf.keras untouched
        return super().keras()


class KerasTorchBackend(Keras3Backend):
    """Keras 3 on PyTorch: ``torch.autograd.grad`` and ``torch.autograd.functional``."""

    name = "keras-torch"
    engine = "torch"
    function_backend = "the torch plug-in of examples/torch-backend"
    requires = {"keras": "keras", "torch": "torch"}
    engine_note = ("no extra installs torch; a CPU-only build: pip install torch --index-url "
                   "https://download.pytorch.org/whl/cpu")

    def array(self, value: np.ndarray) -> Any:
        return _torch().as_tensor(np.asarray(value))

    def to_numpy(self, value: Any) -> np.ndarray:
        return value.detach().cpu().numpy() if hasattr(value, "detach") else np.asarray(value)

    def grad(self, f: Objective, wrt: dict, fixed: dict) -> Derivatives:
        torch = _torch()
        sources = {n: t.detach().requires_grad_(True) for n, t in wrt.items()}
        value = f(sources, fixed)
        found = torch.autograd.grad(value, list(sources.values()), allow_unused=True)
        return value, _filled(torch, sources, found)

    def jacobian(self, f: Objective, wrt: dict, fixed: dict) -> Derivatives:
        functional = _torch().autograd.functional
        names, g = _positional(f, wrt, fixed)
        rows = functional.jacobian(g, tuple(wrt.values()))
        return f(wrt, fixed), dict(zip(names, rows, strict=True))

    def jvp(self, f: Objective, wrt: dict, fixed: dict, tangents: dict) -> Derivatives:
        torch = _torch()
        out = {}
        for name in wrt:
            value, out[name] = torch.autograd.functional.jvp(
                lambda w, name=name: f({**wrt, name: w}, fixed), wrt[name], tangents[name])
        return value, out

    def vjp(self, f: Objective, wrt: dict, fixed: dict, cotangent: Any) -> Derivatives:
        names, g = _positional(f, wrt, fixed)
        value, pulled = _torch().autograd.functional.vjp(g, tuple(wrt.values()), cotangent)
        return value, dict(zip(names, pulled, strict=True))

    def hvp(self, f: Objective, wrt: dict, fixed: dict, tangents: dict) -> Derivatives:
        torch = _torch()
        names, g = _positional(f, wrt, fixed)
        value, product = torch.autograd.functional.hvp(
            g, tuple(wrt.values()), tuple(tangents[n] for n in names))
        return value, dict(zip(names, product, strict=True))


def _torch() -> Any:
    import torch

    return torch


def _filled(torch: Any, sources: dict, found: tuple) -> dict:
    """Gradients by name, zeros where a source does not reach the value."""
    return {n: torch.zeros_like(s) if g is None else g
            for (n, s), g in zip(sources.items(), found, strict=True)}


def _positional(f: Objective, wrt: dict, fixed: dict) -> tuple[list[str], Callable[..., Any]]:
    """``f`` as a function of the ``wrt`` tensors in order (what torch.autograd.functional
    takes)."""
    names = list(wrt)
    return names, lambda *values: f(dict(zip(names, values, strict=True)), fixed)
