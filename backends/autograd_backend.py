"""HIPS autograd adapter: ``value_and_grad``, ``jacobian``, ``make_jvp``, ``make_vjp`` and
``hessian_vector_product`` (over the flattened ``wrt`` arrays, which it needs)."""

from __future__ import annotations

from typing import Any

from backends._functional import Derivatives, FunctionalBackend, Objective


class AutogradBackend(FunctionalBackend):
    name = "autograd"
    requires = {"autograd": "autograd"}

    def namespace(self) -> Any:
        import autograd.numpy

        return autograd.numpy

    def inner_grad(self) -> Any:
        from autograd import grad

        return grad

    def grad(self, f: Objective, wrt: dict, fixed: dict) -> Derivatives:
        from autograd import value_and_grad

        return value_and_grad(f)(wrt, fixed)

    def jacobian(self, f: Objective, wrt: dict, fixed: dict) -> Derivatives:
        from autograd import jacobian

        return f(wrt, fixed), {
            name: jacobian(lambda w, name=name: f({**wrt, name: w}, fixed))(wrt[name])
            for name in wrt
        }

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
