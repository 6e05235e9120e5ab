"""A PyTorch backend for gradparity, built on ``torch.func`` (the worked plug-in example).

Catalog functions are written against a numpy-like ``xp``; :class:`TorchNumpy` gives them
torch under numpy's names where the two differ (``axis``/``keepdims``, ``max`` returning
values only, ``stack(axis=)``). A spec whose function still does not run on it is reported
UNSUPPORTED, with the error, instead of failing.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from backends.base import Arrays, Backend, Program, split
from conformance.spec import Spec


class TorchNumpy:
    """numpy's reductions and ``stack`` on torch tensors; every other name is torch's own."""

    def __init__(self, torch: Any) -> None:
        self.torch = torch

    def __getattr__(self, name: str) -> Any:
        return getattr(self.torch, name)

    def _reduce(self, op: Any, x: Any, axis: Any, keepdims: bool) -> Any:
        dims = tuple(range(x.ndim)) if axis is None else axis
        return op(x, dim=dims, keepdim=keepdims)

    def sum(self, x: Any, axis: Any = None, keepdims: bool = False) -> Any:
        return self._reduce(self.torch.sum, x, axis, keepdims)

    def mean(self, x: Any, axis: Any = None, keepdims: bool = False) -> Any:
        return self._reduce(self.torch.mean, x, axis, keepdims)

    def max(self, x: Any, axis: Any = None, keepdims: bool = False) -> Any:
        return self._reduce(self.torch.amax, x, axis, keepdims)

    def min(self, x: Any, axis: Any = None, keepdims: bool = False) -> Any:
        return self._reduce(self.torch.amin, x, axis, keepdims)

    def stack(self, arrays: Any, axis: int = 0) -> Any:
        return self.torch.stack(list(arrays), dim=axis)


class TorchBackend(Backend):
    """``torch.func.grad_and_value``, ``jacrev``, ``jvp``, ``vjp``; HVP forward-over-reverse."""

    name = "torch"
    requires = {"torch": "torch"}

    def numerics(self) -> dict[str, str]:
        return {"device": "cpu"}

    def unsupported_reason(self, spec: Spec) -> str | None:
        import torch

        reason = super().unsupported_reason(spec)
        if reason is None:
            try:  # a dry run: does fn run on torch at all?
                with torch.no_grad():
                    spec.evaluate(TorchNumpy(torch), _tensors(torch, spec.cast()),
                                  grad=torch.func.grad)
            except (AttributeError, TypeError, RuntimeError) as exc:
                reason = f"fn does not run on torch: {type(exc).__name__}: {exc}"
        return reason

    def prepare(self, spec: Spec) -> Program:
        import torch
        from torch.func import grad, grad_and_value, jacrev, jvp, vjp

        xp = TorchNumpy(torch)

        def f(wrt: dict[str, Any], fixed: dict[str, Any]) -> Any:
            return spec.evaluate(xp, {**fixed, **wrt}, grad=grad)

        def derivatives(wrt: dict[str, Any], fixed: dict[str, Any]) -> tuple[Any, dict]:
            def of_wrt(w: dict[str, Any]) -> Any:
                return f(w, fixed)

            if spec.kind == "grad":
                gradient, value = grad_and_value(of_wrt)(wrt)
                return value, gradient
            if spec.kind == "jacobian":
                return of_wrt(wrt), jacrev(of_wrt)(wrt)
            if spec.kind == "jvp":
                return of_wrt(wrt), {
                    name: jvp(lambda w, name=name: f({**wrt, name: w}, fixed),
                              (wrt[name],), (tangents[name],))[1]
                    for name in wrt}
            if spec.kind == "vjp":
                value, pullback = vjp(of_wrt, wrt)
                return value, pullback(cotangent)[0]
            _, product = jvp(grad(of_wrt), (wrt,), ({n: tangents[n] for n in wrt},))
            return of_wrt(wrt), product  # hvp

        tangents = _tensors(torch, spec.cast(spec.tangents))
        cotangent = (torch.from_numpy(spec.cast({"c": spec.cotangent})["c"])
                     if spec.kind == "vjp" else None)

        def program(arrays: Arrays) -> dict[str, np.ndarray]:
            wrt, fixed = split(spec, _tensors(torch, arrays))
            value, derivs = derivatives(wrt, fixed)
            return {key: t.detach().cpu().numpy() for key, t in {"value": value, **derivs}.items()}

        return program


def _tensors(torch: Any, arrays: Arrays) -> dict[str, Any]:
    return {name: torch.from_numpy(np.ascontiguousarray(a)) for name, a in arrays.items()}
