"""``FunctionalBackend``: the base of every adapter whose framework differentiates functions.

A plug-in author subclasses it and supplies the framework's pieces; the class does the rest
(dispatch on the spec's kind, ``fn`` closed over the namespace, one compilation per spec,
numpy in and out, the ``trace_count`` hook). A subclass gives:

* ``namespace()``: the numpy-like module ``fn`` runs on (``jax.numpy``);
* the five operators, one per spec kind, each taking ``f(wrt, fixed)`` (dicts of the
  framework's arrays) and returning ``(value, derivatives)`` with one derivative per ``wrt``
  name: ``grad(f, wrt, fixed)``, ``jacobian(f, wrt, fixed)``, ``jvp(f, wrt, fixed, tangents)``,
  ``vjp(f, wrt, fixed, cotangent)``, ``hvp(f, wrt, fixed, tangents)``; ``tangents`` (a dict by
  ``wrt`` name) and ``cotangent`` (shaped like the value) come in the spec's dtype, through
  :meth:`FunctionalBackend.direction` (by default :meth:`FunctionalBackend.array`);
* optionally ``compile(compute)`` (``jax.jit``; default: run as is), ``inner_grad()`` (the
  framework's ``grad``, for specs with ``uses_grad``), ``scan()`` (for ``uses_scan``; default:
  a Python loop), and ``array``/``to_numpy`` where the framework does not take and give numpy
  arrays as they are (torch tensors, TF tensors).

``build`` runs the steps in order: :meth:`~FunctionalBackend.objective`,
:meth:`~FunctionalBackend.differentiate`, :meth:`~FunctionalBackend.compile`, then the program
converts arrays with ``array``/``to_numpy`` and carries :meth:`~FunctionalBackend.hooks`.
An adapter changes one step by overriding it (``tf-eager`` differentiates a Keras model
w.r.t. its variables in ``differentiate``), never the whole of ``build``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from backends.base import Arrays, Backend, Program
from conformance.loops import Scan, python_scan
from conformance.spec import Spec

#: ``f(wrt, fixed)``: the spec's objective of two dicts of framework arrays.
Objective = Callable[[dict[str, Any], dict[str, Any]], Any]
#: ``(value, {wrt name: derivative})``: what each operator returns.
Derivatives = tuple[Any, dict[str, Any]]
#: ``derivative(f, wrt, fixed)``: an operator with the spec's tangents or cotangent bound.
Derivative = Callable[[Objective, dict, dict], Derivatives]


def forward_only(f: Objective, wrt: dict, fixed: dict) -> Derivatives:
    """The value of ``f`` and no derivatives: what a forward program computes."""
    return f(wrt, fixed), {}


class FunctionalBackend(Backend):
    """An adapter whose framework differentiates Python functions (see the module docstring)."""

    #: Whether ``compile`` traces the Python function once and reuses the trace (jax.jit):
    #: then the program offers the ``trace_count`` hook, and retracing can be diagnosed.
    compiles_by_tracing: bool = False

    # -- what a subclass supplies ---------------------------------------------------------------

    def namespace(self) -> Any:
        """The numpy-like module ``fn`` is run with (imports the framework)."""
        raise NotImplementedError

    def inner_grad(self) -> Callable[[Callable], Callable]:
        """The framework's ``grad`` handed to specs that differentiate inside ``fn``:
        ``grad(g)`` returns a function of ``g``'s arguments giving the gradient of ``g``'s
        scalar result w.r.t. its first argument (``jax.grad`` semantics)."""
        raise NotImplementedError

    def scan(self) -> Scan:
        """The loop operator handed to specs with ``uses_scan`` (default: a Python loop)."""
        return python_scan(self.namespace())

    def compile(self, compute: Callable[..., Derivatives]) -> Callable[..., Derivatives]:
        """Compile the derivative computation once per spec (default: run it as is)."""
        return compute

    def grad(self, f: Objective, wrt: dict, fixed: dict) -> Derivatives:
        """The value of the scalar ``f`` and its gradient w.r.t. each ``wrt`` array."""
        raise NotImplementedError

    def jacobian(self, f: Objective, wrt: dict, fixed: dict) -> Derivatives:
        """The value and the full Jacobian (``value.shape + wrt.shape``) per ``wrt`` array."""
        raise NotImplementedError

    def jvp(self, f: Objective, wrt: dict, fixed: dict, tangents: dict) -> Derivatives:
        """The value and, per ``wrt`` name, J_name @ tangents[name] (shaped like the value)."""
        raise NotImplementedError

    def vjp(self, f: Objective, wrt: dict, fixed: dict, cotangent: Any) -> Derivatives:
        """The value and cotangent @ J per ``wrt`` array (shaped like that array)."""
        raise NotImplementedError

    def hvp(self, f: Objective, wrt: dict, fixed: dict, tangents: dict) -> Derivatives:
        """The value of the scalar ``f`` and, per ``wrt`` name, the row block of the Hessian
        applied to all tangents: sum over m of d2f/(d name d m) @ tangents[m]."""
        raise NotImplementedError

    def array(self, value: np.ndarray) -> Any:
        """A numpy array as the framework takes it (default: as is; JAX and autograd take
        numpy arrays)."""
        return value

    def to_numpy(self, value: Any) -> np.ndarray:
        """A framework array returned by an operator as a numpy array."""
        return np.asarray(value)

    def direction(self, value: np.ndarray) -> Any:
        """A tangent or the cotangent (in the spec's dtype) as the operators get it, bound
        once per spec (default: :meth:`array`)."""
        return self.array(value)

    # -- the steps of ``build`` ---------------------------------------------------------------

    def objective(self, spec: Spec) -> Objective:
        """``fn`` as ``f(wrt, fixed)`` on the framework's namespace (and its inner ``grad``)."""
        xp = self.namespace()
        inner = self.inner_grad() if spec.uses_grad else None
        scan = self.scan() if spec.uses_scan else None
        return lambda wrt, fixed: spec.evaluate(xp, {**fixed, **wrt}, grad=inner, scan=scan)

    def derivative(self, spec: Spec) -> Derivative:
        """The operator for the spec's kind, with its tangents or cotangent bound."""
        method = getattr(self, spec.kind)
        if spec.kind in ("jvp", "hvp"):
            tangents = self.tangents(spec)
            return lambda f, wrt, fixed: method(f, wrt, fixed, tangents)
        if spec.kind == "vjp":
            cotangent = self.direction(spec.cast({"c": spec.cotangent})["c"])
            return lambda f, wrt, fixed: method(f, wrt, fixed, cotangent)
        return method

    def tangents(self, spec: Spec) -> dict[str, Any]:
        """The spec's tangents (float64 masters) in its dtype, as the framework's arrays."""
        return {n: self.direction(t) for n, t in spec.cast(spec.tangents).items()}

    def differentiate(self, spec: Spec, f: Objective, derivative: Derivative
                      ) -> Callable[[dict, dict], Derivatives]:
        """The computation ``compile`` gets: ``derivative`` of ``f`` at ``(wrt, fixed)``."""
        return lambda wrt, fixed: derivative(f, wrt, fixed)

    def hooks(self, spec: Spec, compute: Callable[..., Derivatives], f: Objective
              ) -> dict[str, Callable[[], Any]]:
        """Program hooks the harness reads after each call (``conformance.harness.HOOKS``),
        beyond ``trace_count`` for a tracing compiler (default: none)."""
        return {}

    def prepare(self, spec: Spec) -> Program:
        return self.build(spec, self.derivative(spec))

    def prepare_forward(self, spec: Spec) -> Program:
        """``fn`` alone, compiled as the derivative is (for ``run --timings``)."""
        return self.build(spec, forward_only)

    def build(self, spec: Spec, derivative: Derivative) -> Program:
        """The program computing ``derivative`` of the spec's objective, compiled once.

        The program is on every probe's path, so what can be settled once is settled here:
        which names are ``wrt``, whether arrays need converting at all, and the trace counter
        only where a tracing compiler runs the Python body once per trace."""
        f = self.objective(spec)
        step = self.differentiate(spec, f, derivative)
        runs = [0]

        def body(wrt: dict, fixed: dict) -> Derivatives:
            runs[0] += 1  # under a tracing compiler this Python runs once per trace
            return step(wrt, fixed)

        compute = self.compile(body if self.compiles_by_tracing else step)
        wrt_names, array, to_numpy = tuple(spec.wrt), self.array, self.to_numpy
        converts = type(self).array is not FunctionalBackend.array

        def program(arrays: Arrays) -> dict[str, np.ndarray]:
            if converts:
                arrays = {n: array(a) for n, a in arrays.items()}
            wrt = {n: arrays[n] for n in wrt_names}
            value, derivatives = compute(wrt, {n: a for n, a in arrays.items() if n not in wrt})
            result = {"value": to_numpy(value)}
            for name, derivative_value in derivatives.items():
                result[name] = to_numpy(derivative_value)
            return result

        if self.compiles_by_tracing:
            program.trace_count = lambda: runs[0]
        for name, hook in self.hooks(spec, compute, f).items():
            setattr(program, name, hook)
        return program
