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
``program.weights_in_use()`` reads back the model's variables after a call;
``program.none_gradients()`` names the ``wrt`` arrays whose derivative TensorFlow answered
None (no path to the output, or an op whose gradient is None, such as ``floor``): the program
returns zeros for them, as their derivative is zero, and the conventions matrix shows None.
"""

from __future__ import annotations

import contextvars
from collections.abc import Callable
from typing import Any

import numpy as np

from backends import _keras, _tf, _tnp
from backends.base import Program
from backends.functional import Derivative, Derivatives, FunctionalBackend, Objective
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
        return _PositionalFunction(compute)

    # -- one method per kind; ``wrt`` values are tensors or, for model weights, tf.Variables --

    def grad(self, f: Objective, wrt: dict, fixed: dict) -> Derivatives:
        tape, value = _recorded(f, wrt, fixed)
        found = tape.gradient(value, wrt, unconnected_gradients=_none())
        return value, _filled(found, lambda n: _tf.core().zeros_like(wrt[n]))

    def jacobian(self, f: Objective, wrt: dict, fixed: dict) -> Derivatives:
        tf = _tf.core()
        tape, value = _recorded(f, wrt, fixed)
        found = tape.jacobian(value, wrt, unconnected_gradients=_none())
        return value, _filled(found, lambda n: tf.zeros(value.shape.concatenate(wrt[n].shape),
                                                        value.dtype))

    def jvp(self, f: Objective, wrt: dict, fixed: dict, tangents: dict) -> Derivatives:
        tf = _tf.core()
        out = {}
        for name in wrt:
            with tf.autodiff.ForwardAccumulator(wrt[name], tangents[name]) as accumulator:
                value = f(wrt, fixed)
            out[name] = accumulator.jvp(value, unconnected_gradients=_none())
        return value, _filled(out, lambda n: tf.zeros_like(value))

    def jvp_by_double_vjp(self, f: Objective, wrt: dict, fixed: dict, tangents: dict
                          ) -> Derivatives:
        """JVPs as ``d/du <J^T u, t>`` with nested tapes, for specs using ``scan``:
        ``ForwardAccumulator`` cannot push tangents through ``tf.scan``'s TensorArrays."""
        tf = _tf.core()
        tape, value = _recorded(f, wrt, fixed)
        with tf.GradientTape(persistent=True) as outer:
            u = tf.zeros_like(value)
            outer.watch(u)
            pulled = tape.gradient(value, wrt, output_gradients=u, unconnected_gradients=_none())
        return value, _filled({name: None if pulled[name] is None else outer.gradient(
            pulled[name], u, output_gradients=tangents[name], unconnected_gradients=_zero())
            for name in wrt}, lambda n: tf.zeros_like(value))

    def derivative(self, spec: Spec) -> Derivative:
        if spec.kind == "jvp" and spec.uses_scan:
            tangents = self.tangents(spec)
            return lambda f, wrt, fixed: self.jvp_by_double_vjp(f, wrt, fixed, tangents)
        return super().derivative(spec)

    def vjp(self, f: Objective, wrt: dict, fixed: dict, cotangent: Any) -> Derivatives:
        tape, value = _recorded(f, wrt, fixed)
        found = tape.gradient(value, wrt, output_gradients=cotangent,
                              unconnected_gradients=_none())
        return value, _filled(found, lambda n: _tf.core().zeros_like(wrt[n]))

    def hvp(self, f: Objective, wrt: dict, fixed: dict, tangents: dict) -> Derivatives:
        tf = _tf.core()
        with tf.GradientTape() as outer:
            outer.watch(wrt)
            inner, value = _recorded(f, wrt, fixed)
            gradient = inner.gradient(value, wrt, unconnected_gradients=_zero())
        found = outer.gradient(gradient, wrt, output_gradients={n: tangents[n] for n in wrt},
                               unconnected_gradients=_none())
        return value, _filled(found, lambda n: tf.zeros_like(wrt[n]))

    def prepare(self, spec: Spec) -> Program:
        """The program, with the ``none_gradients`` hook: the ``wrt`` names whose derivative
        TensorFlow answered None while the spec's function was traced."""
        answered: set[str] = set()
        operator = self.derivative(spec)

        def recording(f: Objective, wrt: dict, fixed: dict) -> Derivatives:
            token = _ANSWERED_NONE.set(answered)
            try:
                return operator(f, wrt, fixed)
            finally:
                _ANSWERED_NONE.reset(token)
        program = self.build(spec, recording)
        program.none_gradients = lambda: tuple(sorted(answered))
        return program

    # -- the steps of ``build`` that differ: tensors in, Keras models, the tf.function's hooks --

    def array(self, value: np.ndarray) -> Any:
        return _tf.core().constant(value)

    def to_numpy(self, value: Any) -> np.ndarray:
        return np.asarray(_tf.dense(value))

    def direction(self, value: np.ndarray) -> Any:
        return value  # numpy: the spec's tf.function holds it as a constant of its graph

    def objective(self, spec: Spec) -> Objective:
        """A function spec's ``fn`` on tnp, or a model spec's real tf_keras model."""
        if spec.model is None:
            return super().objective(spec)
        return _KerasObjective(_keras.build_tf_keras_model(spec), spec.model.training)

    def differentiate(self, spec: Spec, f: Objective, derivative: Derivative
                      ) -> Callable[[dict, dict], Derivatives]:
        """For a model, the weights are assigned to the model's variables from the arrays at
        each call, and the derivative is taken w.r.t. the variables, as a Keras user would."""
        if not isinstance(f, _KerasObjective):
            return super().differentiate(spec, f, derivative)
        variables = f.keras.variables

        def compute(wrt: dict, fixed: dict) -> Derivatives:
            arrays = {**fixed, **wrt}
            for name, variable in variables.items():
                variable.assign(arrays[name])
            sources = {n: variables.get(n, a) for n, a in wrt.items()}
            return derivative(f, sources, fixed)
        return compute

    def hooks(self, spec: Spec, compute: Any, f: Objective) -> dict[str, Callable[[], Any]]:
        """``trace_count`` of the spec's ``tf.function``; a model's ``weights_in_use``."""
        hooks = {"trace_count": compute.tracing_count}
        if isinstance(f, _KerasObjective):
            # in training mode Keras updates BatchNormalization's moving statistics after
            # using the batch's own: they are not the weights the call used, not read back
            in_use = {n: v for n, v in f.keras.variables.items()
                      if not (f.training and n.endswith(STATE_KINDS))}
            hooks["weights_in_use"] = lambda: {n: v.numpy() for n, v in in_use.items()}
        return hooks


class _PositionalFunction:
    """``compute(wrt, fixed)`` as a ``tf.function`` taking the tensors as positional
    arguments, one per layout of names: at every call TF builds a trace key of each argument,
    and a dict's costs more than the tensors in it (two dicts made the 7-element polynomial of
    ``benchmarks/adapter_overhead.py`` cost 26 us more per call than native code; positional
    tensors, less). AutoGraph is off: specs use static Python control
    flow only (as under jax.jit), and converting every spec's code took a quarter of the
    adapter's time on the op catalog."""

    def __init__(self, compute: Callable[..., Derivatives]) -> None:
        self.compute = compute
        self.functions: dict[tuple[tuple[str, ...], tuple[str, ...]], Any] = {}

    def __call__(self, wrt: dict, fixed: dict) -> Derivatives:
        layout = (tuple(wrt), tuple(fixed))
        function = self.functions.get(layout)
        if function is None:
            function = self.functions[layout] = self._function(*layout)
        return function(*wrt.values(), *fixed.values())

    def _function(self, wrt_names: tuple[str, ...], fixed_names: tuple[str, ...]) -> Any:
        count = len(wrt_names)

        def positional(*tensors: Any) -> Derivatives:
            return self.compute(dict(zip(wrt_names, tensors[:count])),
                                dict(zip(fixed_names, tensors[count:])))
        return _tf.core().function(positional, autograph=False)

    def tracing_count(self) -> int:
        """How many times the computation has been traced, over every layout."""
        return sum(f.experimental_get_tracing_count() for f in self.functions.values())


class _KerasObjective:
    """A model spec's objective on its tf_keras model, whose variables hold the weights."""

    def __init__(self, keras: _keras.KerasModel, training: bool) -> None:
        self.keras, self.training = keras, training

    def __call__(self, wrt: dict, fixed: dict) -> Any:
        arrays = {**fixed, **wrt}
        return self.keras.objective(self.keras.call(arrays, training=self.training), arrays)


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


def _none() -> Any:
    """TensorFlow's own answer, None included, for :func:`_filled` to record and fill."""
    return _tf.core().UnconnectedGradients.NONE


#: The names whose derivative TensorFlow answered None, collected while a program traces.
_ANSWERED_NONE: contextvars.ContextVar[set[str] | None] = contextvars.ContextVar(
    "answered_none", default=None)


def _filled(found: dict, zeros: Callable[[str], Any]) -> dict:
    """``found`` with ``zeros(name)`` where TensorFlow answered None (the derivative of an
    unconnected input, or of an op whose gradient is None, is zero), each such name recorded
    for the program's ``none_gradients`` hook."""
    answered = _ANSWERED_NONE.get()
    out = {}
    for name, derivative in found.items():
        if derivative is None:
            if answered is not None:
                answered.add(name)
            derivative = zeros(name)
        out[name] = derivative
    return out
