"""TensorFlow 2 eager adapter: ``tf.GradientTape`` with the sources watched.

Gradients and VJPs come from ``tape.gradient``, Jacobians from ``tape.jacobian``, JVPs from
``tf.autodiff.ForwardAccumulator`` and Hessian-vector products from nested tapes. Each spec's
computation is wrapped in ``tf.function`` once (AutoGraph off), so repeated calls with new
values do not retrace. Function specs run ``fn`` on ``tensorflow.experimental.numpy``; model
specs build a real tf_keras model, assign the weights from the arrays at each call, and
differentiate ``model(x, training=...)`` w.r.t. the model's own variables, as a Keras user
would.

Hooks for the harness: ``program.trace_count()`` is how many times the spec's ``tf.function``
has been traced (1 after any number of calls with the spec's shapes); for model specs,
``program.weights_in_use()`` reads back the model's variables after a call.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from backends import _keras, _tf, _tnp
from backends._functional import Derivatives, FunctionalBackend, Objective
from backends.base import Arrays, Program, split, to_numpy
from conformance.model import STATE_KINDS
from conformance.spec import Spec


class TFEagerBackend(_tf.TensorFlowBackend, FunctionalBackend):
    name = "tf-eager"

    def inner_grad(self) -> Callable[[Callable], Callable]:
        def grad(f: Callable) -> Callable:
            def gradient(x: Any, *rest: Any) -> Any:
                tape, y = _recorded(lambda w, _: f(w, *rest), x, None)
                return _tf.core().nest.map_structure(
                    _tf.dense, tape.gradient(y, x, unconnected_gradients=_zero()))
            return gradient
        return grad

    def scan(self) -> Any:
        return _tnp.scan

    def compile(self, compute: Callable[..., Derivatives]) -> Callable[..., Derivatives]:
        # AutoGraph off: specs use static Python control flow only (as under jax.jit), and
        # converting every spec's code took a quarter of the adapter's time on the op catalog
        return _tf.core().function(compute, autograph=False)

    # -- one method per kind; ``wrt`` values are tensors or, for model weights, tf.Variables --

    def grad(self, f: Objective, wrt: dict, fixed: dict) -> Derivatives:
        tape, value = _recorded(f, wrt, fixed)
        return value, tape.gradient(value, wrt, unconnected_gradients=_zero())

    def jacobian(self, f: Objective, wrt: dict, fixed: dict) -> Derivatives:
        tape, value = _recorded(f, wrt, fixed)
        return value, tape.jacobian(value, wrt, unconnected_gradients=_zero())

    def jvp(self, f: Objective, wrt: dict, fixed: dict, tangents: dict) -> Derivatives:
        tf = _tf.core()
        out = {}
        for name in wrt:
            with tf.autodiff.ForwardAccumulator(wrt[name], tangents[name]) as accumulator:
                value = f(wrt, fixed)
            out[name] = accumulator.jvp(value, unconnected_gradients=_zero())
        return value, out

    def jvp_by_double_vjp(self, f: Objective, wrt: dict, fixed: dict, tangents: dict
                          ) -> Derivatives:
        """JVPs as ``d/du <J^T u, t>`` with nested tapes, for specs using ``scan``:
        ``ForwardAccumulator`` cannot push tangents through ``tf.scan``'s TensorArrays."""
        tf = _tf.core()
        tape, value = _recorded(f, wrt, fixed)
        with tf.GradientTape(persistent=True) as outer:
            u = tf.zeros_like(value)
            outer.watch(u)
            pulled = tape.gradient(value, wrt, output_gradients=u, unconnected_gradients=_zero())
        return value, {name: outer.gradient(pulled[name], u, output_gradients=tangents[name],
                                            unconnected_gradients=_zero()) for name in wrt}

    def derivative(self, spec: Spec) -> Callable[[Objective, dict, dict], Derivatives]:
        if spec.kind == "jvp" and spec.uses_scan:
            tangents = spec.cast(spec.tangents)
            return lambda f, wrt, fixed: self.jvp_by_double_vjp(f, wrt, fixed, tangents)
        return super().derivative(spec)

    def vjp(self, f: Objective, wrt: dict, fixed: dict, cotangent: Any) -> Derivatives:
        tape, value = _recorded(f, wrt, fixed)
        return value, tape.gradient(value, wrt, output_gradients=cotangent,
                                    unconnected_gradients=_zero())

    def hvp(self, f: Objective, wrt: dict, fixed: dict, tangents: dict) -> Derivatives:
        tf = _tf.core()
        with tf.GradientTape() as outer:
            outer.watch(wrt)
            inner, value = _recorded(f, wrt, fixed)
            gradient = inner.gradient(value, wrt, unconnected_gradients=_zero())
        return value, outer.gradient(gradient, wrt, output_gradients={n: tangents[n] for n in wrt},
                                     unconnected_gradients=_zero())

    # -- preparation --------------------------------------------------------------------------

    def build(self, spec: Spec, derivative: Callable[[Objective, dict, dict], Derivatives]
              ) -> Program:
        tf = _tf.tensorflow()
        if spec.model is None:
            return self.traced(spec, self.objective(spec), derivative)
        keras = _keras.build_tf_keras_model(spec)
        training = spec.model.training

        def objective(wrt: dict, fixed: dict) -> Any:
            arrays = {**fixed, **wrt}
            return keras.objective(keras.call(arrays, training=training), arrays)

        def compute(wrt: dict, fixed: dict) -> Derivatives:
            arrays = {**fixed, **wrt}
            for name, variable in keras.variables.items():
                variable.assign(arrays[name])
            sources = {n: keras.variables.get(n, a) for n, a in wrt.items()}
            return derivative(objective, sources, fixed)

        program = _TracedProgram(spec, self.compile(compute), tf)
        # in training mode Keras updates BatchNormalization's moving statistics after using
        # the batch's own: they are not the weights the call used, so they are not read back
        in_use = {n: v for n, v in keras.variables.items()
                  if not (training and n.endswith(STATE_KINDS))}
        program.weights_in_use = lambda: {n: v.numpy() for n, v in in_use.items()}
        return program

    def traced(self, spec: Spec, f: Objective,
               derivative: Callable[[Objective, dict, dict], Derivatives]) -> Program:
        """The program computing ``derivative`` of ``f``, in one ``tf.function`` per spec."""
        def compute(wrt: dict, fixed: dict) -> Derivatives:
            return derivative(f, wrt, fixed)

        return _TracedProgram(spec, self.compile(compute), _tf.core())


def _recorded(f: Objective, wrt: Any, fixed: Any) -> tuple[Any, Any]:
    """``f`` run under a GradientTape that watches ``wrt`` (plain tensors are not watched by
    default); returns the tape and the value."""
    with _tf.core().GradientTape() as tape:
        tape.watch(wrt)
        value = f(wrt, fixed)
    return tape, value


def _zero() -> Any:
    """Inputs with no path to the output get zeros, not None: their derivative is zero."""
    return _tf.core().UnconnectedGradients.ZERO


class _TracedProgram:
    """A spec's ``tf.function`` called with tensors; ``trace_count()`` reads its traces."""

    def __init__(self, spec: Spec, function: Any, tf: Any) -> None:
        self.spec, self.function, self.tf = spec, function, tf

    def __call__(self, arrays: Arrays) -> dict[str, np.ndarray]:
        wrt, fixed = split(self.spec, arrays)
        as_tensors = {n: self.tf.constant(a) for n, a in {**wrt, **fixed}.items()}
        value, derivatives = self.function({n: as_tensors[n] for n in wrt},
                                           {n: as_tensors[n] for n in fixed})
        return to_numpy({"value": value, **{n: _tf.dense(d) for n, d in derivatives.items()}})

    def trace_count(self) -> int:
        """How many times the spec's computation has been traced."""
        return self.function.experimental_get_tracing_count()
