"""A PyTorch backend for gradparity, built on ``torch.func`` (the worked plug-in example).

It is built on :class:`backends.FunctionalBackend`: a namespace and the five operators; the
base class dispatches on the spec's kind, converts arrays with :meth:`TorchBackend.array` and
:meth:`TorchBackend.to_numpy`, and hands specs a ``scan`` (a Python loop). Catalog functions
are written against a numpy-like ``xp``; :class:`TorchNumpy` gives them torch under numpy's
names where the two differ (``axis``/``keepdims``, ``max`` returning values only,
``stack(axis=)``, ``std``/``var`` without Bessel's correction, ``split`` into sections,
``sort`` returning values only). A spec whose function still does not run on it, or that
torch cannot differentiate, is reported UNSUPPORTED with torch's error instead of failing.
Each of those differences was found by running the catalog on this backend: a namespace
that hands numpy's names to torch's functions unchecked gets ``std`` 10 % wrong.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from backends import FunctionalBackend
from backends.base import split
from backends.functional import Derivatives, Objective
from conformance.spec import Spec


class TorchLinalg:
    """numpy's ``linalg`` on torch's: ``eigh``, ``eigvalsh`` and ``cholesky`` read one triangle
    of ``a`` as numpy's do (torch's own symmetrize the gradient, where numpy's derivative
    w.r.t. the other triangle is zero: the catalog's ``calls-linalg-*`` cases showed it)."""

    def __init__(self, torch: Any) -> None:
        self.torch = torch

    def __getattr__(self, name: str) -> Any:
        return getattr(self.torch.linalg, name)

    def _symmetric(self, a: Any, lower: bool) -> Any:
        triangle = self.torch.tril if lower else self.torch.triu
        return triangle(a) + triangle(a, -1 if lower else 1).mT

    def eigh(self, a: Any, UPLO: str = "L") -> Any:  # noqa: N803 - numpy's name
        return self.torch.linalg.eigh(self._symmetric(a, UPLO.upper() == "L"))

    def eigvalsh(self, a: Any, UPLO: str = "L") -> Any:  # noqa: N803 - numpy's name
        return self.torch.linalg.eigvalsh(self._symmetric(a, UPLO.upper() == "L"))

    def cholesky(self, a: Any, upper: bool = False) -> Any:
        factor = self.torch.linalg.cholesky(self._symmetric(a, not upper))
        return factor.mT if upper else factor


class TorchNumpy:
    """numpy's reductions, ``stack`` and one-triangle ``linalg`` on torch tensors; every other
    name is torch's own."""

    def __init__(self, torch: Any) -> None:
        self.torch = torch
        self.linalg = TorchLinalg(torch)

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

    def std(self, x: Any, axis: Any = None, keepdims: bool = False, ddof: int = 0) -> Any:
        return self.torch.std(x, dim=axis, keepdim=keepdims, correction=ddof)

    def var(self, x: Any, axis: Any = None, keepdims: bool = False, ddof: int = 0) -> Any:
        return self.torch.var(x, dim=axis, keepdim=keepdims, correction=ddof)

    def stack(self, arrays: Any, axis: int = 0) -> Any:
        return self.torch.stack(list(arrays), dim=axis)

    def split(self, x: Any, indices_or_sections: Any, axis: int = 0) -> list:
        return list(self.torch.tensor_split(x, indices_or_sections, dim=axis))

    def sort(self, x: Any, axis: int = -1) -> Any:
        return self.torch.sort(x, dim=axis).values

    def float_power(self, x: Any, y: Any) -> Any:
        return self.torch.pow(x, y)  # torch's float_power always answers in float64


class TorchBackend(FunctionalBackend):
    """``torch.func.grad_and_value``, ``jacrev``, ``jvp``, ``vjp``; HVP forward-over-reverse."""

    name = "torch"
    requires = {"torch": "torch"}
    #: What torch says where it has no derivative (or no such slice), made UNSUPPORTED.
    no_rule_messages = (r"derivative for aten::\w+ is not implemented",
                        r"has been modified by an inplace operation",
                        r"ValueError: step must be greater than zero")

    def numerics(self) -> dict[str, str]:
        return {"device": "cpu"}

    def namespace(self) -> Any:
        return TorchNumpy(_torch())

    def inner_grad(self) -> Any:
        return _torch().func.grad

    def array(self, value: np.ndarray) -> Any:
        return _torch().from_numpy(np.ascontiguousarray(value))

    def to_numpy(self, value: Any) -> np.ndarray:
        return value.detach().cpu().numpy()

    def unsupported_reason(self, spec: Spec) -> str | None:
        reason = super().unsupported_reason(spec)
        if reason is None:
            try:  # a dry run: does fn run on torch at all?
                with _torch().no_grad():
                    self.objective(spec)(*split(spec, {n: self.array(a)
                                                       for n, a in spec.cast().items()}))
            except (AttributeError, TypeError, RuntimeError, ValueError) as exc:
                reason = f"fn does not run on torch: {type(exc).__name__}: {exc}"
        return reason

    # -- the five operators (torch.func) --

    def grad(self, f: Objective, wrt: dict, fixed: dict) -> Derivatives:
        gradient, value = _torch().func.grad_and_value(lambda w: f(w, fixed))(wrt)
        return value, gradient

    def jacobian(self, f: Objective, wrt: dict, fixed: dict) -> Derivatives:
        return f(wrt, fixed), _torch().func.jacrev(lambda w: f(w, fixed))(wrt)

    def jvp(self, f: Objective, wrt: dict, fixed: dict, tangents: dict) -> Derivatives:
        jvp = _torch().func.jvp
        return f(wrt, fixed), {
            name: jvp(lambda w, name=name: f({**wrt, name: w}, fixed),
                      (wrt[name],), (tangents[name],))[1]
            for name in wrt}

    def vjp(self, f: Objective, wrt: dict, fixed: dict, cotangent: Any) -> Derivatives:
        value, pullback = _torch().func.vjp(lambda w: f(w, fixed), wrt)
        return value, pullback(cotangent)[0]

    def hvp(self, f: Objective, wrt: dict, fixed: dict, tangents: dict) -> Derivatives:
        func = _torch().func
        _, product = func.jvp(func.grad(lambda w: f(w, fixed)), (wrt,),
                              ({n: tangents[n] for n in wrt},))
        return f(wrt, fixed), product


def _torch() -> Any:
    import torch

    return torch
