"""HIPS autograd adapter: ``value_and_grad``, ``make_jvp``, ``make_vjp`` (also for Jacobians,
row by row) and ``hessian_vector_product`` (over the flattened ``wrt`` arrays, which it needs)."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import numpy as np

from backends._numpy_names import Names, clip, numpy_linalg, pad, variance
from backends.functional import Derivative, Derivatives, FunctionalBackend, Objective
from conformance.spec import Spec


@functools.cache
def numpy_namespace() -> Names:
    """``autograd.numpy`` with numpy's meaning where its derivative rules read the arguments
    another way: ``clip``'s bounds and ``pad``'s mode by keyword (its rules take them by
    position), ``var``/``std`` with ``correction`` (its rule ignores it), the triangle
    ``linalg.eigh``/``cholesky`` read, numpy 2's named results."""
    import autograd.numpy as anp

    def population(reduce):  # noqa: ANN001, ANN202 - anp.var or anp.std, ddof 0
        return lambda a, axis, keepdims: reduce(a, axis=axis, keepdims=keepdims)

    return Names(anp, "autograd.numpy", clip=clip(lambda a, low, high: anp.clip(a, low, high)),
                 var=variance(anp, population(anp.var), False),
                 std=variance(anp, population(anp.std), True),
                 pad=pad(lambda a, widths, mode, **kwargs: anp.pad(a, widths, mode, **kwargs)),
                 linalg=Names(anp.linalg, "autograd.numpy.linalg", **numpy_linalg(
                     anp, eigh=anp.linalg.eigh, eigvalsh=anp.linalg.eigvalsh,
                     cholesky=anp.linalg.cholesky, slogdet=anp.linalg.slogdet)))


class AutogradBackend(FunctionalBackend):
    name = "autograd"
    extra = "autograd"
    requires = {"autograd": "autograd"}
    fork_safe = True
    # autograd's own words for "no derivative rule" (none at all, or none for this use:
    # sort along an axis, diagonal with an offset, pad other than constant, broadcast_to with
    # new leading axes) and its einsum rule failing on a repeated input index (trace).
    no_rule_messages = (r"^NotImplementedError: (VJP|JVP) of .+ wrt argnums? .+ not defined",
                        r"^NotImplementedError: Gradient of \w+ not implemented",
                        r"^NotImplementedError: Currently \w+ only supports",
                        r"^AssertionError: (Only constant mode padding is supported|"
                        r"Can't handle extra leading dims)",
                        r"^ValueError: einstein sum subscripts string includes output subscript")

    def namespace(self) -> Any:
        return numpy_namespace()

    def inner_grad(self) -> Any:
        from autograd import grad

        return grad

    def compile(self, compute: Any) -> Any:
        # autograd's gradient of max (and so of softmax) divides by an integer tie count and
        # comes back float64 for float32 inputs; return the dtype the program was given.
        def in_input_dtype(wrt: dict, fixed: dict) -> Derivatives:
            value, derivatives = compute(wrt, fixed)
            dtype = np.result_type(*wrt.values())
            return value, {n: np.asarray(d, dtype=dtype) for n, d in derivatives.items()}
        return in_input_dtype

    def grad(self, f: Objective, wrt: dict, fixed: dict) -> Derivatives:
        return _value_and_grad(f, tuple(wrt))(wrt, fixed)

    def differentiate(self, spec: Spec, f: Objective, derivative: Derivative
                      ) -> Callable[[dict, dict], Derivatives]:
        # value_and_grad builds its wrappers at every call (formatting their names), about
        # 6 us: a gradient program builds them once per spec
        if derivative == self.grad:
            return _value_and_grad(f, tuple(spec.wrt))
        return super().differentiate(spec, f, derivative)

    def jacobian(self, f: Objective, wrt: dict, fixed: dict) -> Derivatives:
        # autograd.jacobian pulls back float64 basis vectors, so a float32 spec would be
        # differentiated in float64; pull back basis vectors of the output's own dtype.
        from autograd import make_vjp

        out = {}
        for name in wrt:
            pullback, value = make_vjp(lambda w, name=name: f({**wrt, name: w}, fixed))(wrt[name])
            basis = np.eye(np.size(value), dtype=value.dtype).reshape(-1, *np.shape(value))
            rows = np.stack([pullback(b) for b in basis])
            out[name] = rows.reshape(np.shape(value) + np.shape(wrt[name]))
        return f(wrt, fixed), out

    def jvp(self, f: Objective, wrt: dict, fixed: dict, tangents: dict) -> Derivatives:
        from autograd import make_jvp

        return f(wrt, fixed), {
            name: make_jvp(lambda w, name=name: f({**wrt, name: w}, fixed))(wrt[name])(
                tangents[name])[1]
            for name in wrt
        }

    def vjp(self, f: Objective, wrt: dict, fixed: dict, cotangent: Any) -> Derivatives:
        from autograd import make_vjp

        pullback, value = make_vjp(lambda w: f(w, fixed))(wrt)
        return value, pullback(cotangent)

    def hvp(self, f: Objective, wrt: dict, fixed: dict, tangents: dict) -> Derivatives:
        from autograd import hessian_vector_product
        from autograd.misc import flatten

        flat, unflatten = flatten(wrt)
        flat_tangent, _ = flatten({n: tangents[n] for n in wrt})
        product = hessian_vector_product(lambda w: f(unflatten(w), fixed))(flat, flat_tangent)
        return f(wrt, fixed), unflatten(product)


def _value_and_grad(f: Objective, names: tuple[str, ...]) -> Callable[[dict, dict], Derivatives]:
    """``(wrt, fixed) -> (value, gradients)`` of ``f`` by autograd's ``value_and_grad``,
    w.r.t. one array or a tuple of them: autograd's dict container costs about 20 us per call
    more than a bare array (measured on a 7-element polynomial)."""
    from autograd import value_and_grad

    if len(names) == 1:
        (name,) = names
        one = value_and_grad(lambda x, fixed: f({name: x}, fixed))

        def of_one(wrt: dict, fixed: dict) -> Derivatives:
            value, gradient = one(wrt[name], fixed)
            return value, {name: gradient}
        return of_one
    several = value_and_grad(lambda xs, fixed: f(dict(zip(names, xs)), fixed))

    def of_several(wrt: dict, fixed: dict) -> Derivatives:
        value, gradients = several(tuple(wrt[n] for n in names), fixed)
        return value, dict(zip(names, gradients))
    return of_several
