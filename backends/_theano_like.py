"""What the ``theano`` and ``pytensor`` adapters share: symbolic graphs compiled per spec.

Theano and its successor pytensor differentiate graphs, not Python functions, so the adapter
runs ``fn`` once on symbolic variables and differentiates the resulting expression the way a
practitioner of either does it: ``grad`` for gradients, ``gradient.jacobian`` of the
flattened output (reshaped to ``output.shape + array.shape``, as seed 003's author did),
``Rop`` for JVPs and ``Lop`` for VJPs (a subclass may use newer names or a fallback), and
``grad(grad(f) . v)`` for Hessian-vector products. The graph is compiled once per spec with
``function`` and called with new arrays after that.

Every array is a symbolic input (so the program follows new weights), typed with the spec's
dtype; size-1 axes are broadcastable. The graph is built and compiled under
``floatX = <the spec's dtype>``, so Python constants in ``fn`` (``0.5 * x``) do not turn a
float32 graph into a float64 one. Inside ``fn``, ``xp`` is :class:`Namespace`: numpy names
over the framework's ``tensor`` module; a name it lacks makes the spec UNSUPPORTED, naming it.
"""

from __future__ import annotations

import os
import types
from collections.abc import Callable, Mapping
from typing import Any, ClassVar

import numpy as np

from backends._numpy_names import clip, concatenate, numpy_linalg, one_sided_clip, variance
from backends.functional import Derivatives, FunctionalBackend, Objective
from conformance.spec import Spec

#: numpy names whose function the framework's ``tensor`` module spells differently.
RENAMED: dict[str, tuple[str, ...]] = {
    "abs": ("abs", "abs_"), "absolute": ("abs", "abs_"), "square": ("square", "sqr"),
    "asarray": ("as_tensor_variable",), "array": ("as_tensor_variable",),
    "concat": ("concatenate",), "pow": ("pow", "power"), "equal": ("equal", "eq"),
    "negative": ("negative", "neg"), "multiply": ("multiply", "mul"),
    "subtract": ("subtract", "sub"), "divide": ("divide", "true_div"),
    "true_divide": ("true_divide", "true_div"),
}
#: numpy attributes that are not functions, the same in every namespace.
CONSTANTS: dict[str, Any] = {"newaxis": None, "pi": np.pi, "e": np.e, "inf": np.inf,
                             "float32": np.float32, "float64": np.float64}


def _split(tensor: Any) -> Callable[..., list]:
    """numpy's ``split`` (sections or indices; the framework's own takes split sizes)."""
    def split(x: Any, indices_or_sections: Any, axis: int = 0) -> list:
        length = x.shape[axis]
        if isinstance(indices_or_sections, int):
            size = length // indices_or_sections
            bounds = [i * size for i in range(indices_or_sections + 1)]
        else:
            bounds = [0, *indices_or_sections, length]
        where = [slice(None)] * x.ndim
        return [x[tuple(where[:axis] + [slice(a, b)] + where[axis + 1:])]
                for a, b in zip(bounds[:-1], bounds[1:])]
    return split


def _atleast_3d(x: Any) -> Any:
    """numpy's ``atleast_3d``: (N,) -> (1, N, 1), (M, N) -> (M, N, 1)."""
    patterns = {0: ("x", "x", "x"), 1: ("x", 0, "x"), 2: (0, 1, "x")}
    return x.dimshuffle(*patterns[x.ndim]) if x.ndim in patterns else x


def _diagonal(tensor: Any) -> Callable[..., Any]:
    """numpy's ``diagonal`` of a matrix by indexing (Theano 1.0.5's gradient of an offset
    diagonal fails to broadcast); other cases go to the framework's own."""
    def diagonal(x: Any, offset: int = 0, axis1: int = 0, axis2: int = 1) -> Any:
        if x.ndim != 2 or (axis1, axis2) != (0, 1):
            return tensor.diagonal(x, offset, axis1, axis2)
        first_row, first_col = max(0, -offset), max(0, offset)
        steps = tensor.arange(tensor.minimum(x.shape[0] - first_row, x.shape[1] - first_col))
        return x[steps + first_row, steps + first_col]
    return diagonal


class Namespace:
    """numpy names over ``theano.tensor`` / ``pytensor.tensor`` (what ``fn`` sees as ``xp``);
    where the framework's function of a numpy name takes other arguments (``split``,
    ``atleast_3d``, an offset ``diagonal``, ``var``/``std`` with ``ddof``, ``clip`` with a
    None bound, ``concatenate(axis=None)``, ``reshape(x, -1)``, the triangle ``eigh`` and
    ``cholesky`` read), numpy's semantics are written on its ops
    (:mod:`backends._numpy_names`)."""

    def __init__(self, label: str, tensor: Any, matmul: Callable[[Any, Any], Any],
                 linalg: Mapping[str, Any]) -> None:
        self._label, self._tensor = label, tensor
        self.__name__ = label  # what an UNSUPPORTED reason calls it
        self.matmul = matmul
        self.linalg = types.SimpleNamespace(**{**linalg, **numpy_linalg(
            self, **{n: linalg[n] for n in ("eigh", "eigvalsh", "cholesky", "slogdet")
                     if n in linalg})})
        self.var = variance(self, lambda a, axis, keepdims: tensor.var(a, axis=axis,
                                                                       keepdims=keepdims), False)
        self.std = variance(self, lambda a, axis, keepdims: tensor.std(a, axis=axis,
                                                                       keepdims=keepdims), True)
        self.clip = clip(one_sided_clip(self, tensor.clip))
        self.concatenate = concatenate(self, tensor.concatenate)
        self.reshape = lambda a, newshape: tensor.reshape(
            a, (newshape,) if isinstance(newshape, int) else newshape)
        self.split = _split(tensor)
        self.diagonal = _diagonal(tensor)
        self.atleast_3d = _atleast_3d

    def __getattr__(self, name: str) -> Any:
        if name in CONSTANTS:
            return CONSTANTS[name]
        for candidate in RENAMED.get(name, (name,)):
            if candidate in self.__dict__:
                return self.__dict__[candidate]
            value = getattr(self._tensor, candidate, None)
            if callable(value) and not name.startswith("_"):
                return value
        raise AttributeError(f"{self._label} has no numpy-like {name!r}")


class TheanoLikeBackend(FunctionalBackend):
    """Shared logic; a subclass names the framework and supplies its few differences."""

    #: The imported package name, ``theano`` or ``pytensor``.
    module_name: ClassVar[str] = ""
    fork_safe = True
    #: What the framework cannot differentiate (or take) says, made UNSUPPORTED with its
    #: own message: no second derivative of ``prod``, no usable gradient of ``real`` (nor,
    #: on Theano, a ``grad`` of ``conj``), ``TensorVariable.reshape`` refusing numpy's
    #: ``x.reshape(-1)``, and a symbolic size where ``fn`` needs a Python int.
    no_rule_messages = (r"NullTypeGradError: .*grad method for input \d+ .* is not implemented",
                        r"TypeError: \S+\.grad illegally\s+returned an integer-valued",
                        r"TypeError: New shape in reshape must be a vector",
                        r"MethodNotDefined: \('grad', ",
                        # fn reads a size as a Python int (``n, d = x.shape``), but the inputs
                        # here have symbolic shapes (pytensor's message)
                        r"TypeError: TensorVariable cannot be converted to Python integer")

    # -- what a subclass supplies --------------------------------------------------------------

    def framework(self) -> Any:
        """The framework's top-level module, imported and configured (see the subclasses)."""
        raise NotImplementedError

    def variable(self, name: str, array: np.ndarray) -> Any:
        """A symbolic input typed like ``array`` (dtype, rank; size-1 axes broadcastable)."""
        raise NotImplementedError

    def float_flags(self, dtype: str) -> Any:
        """A context manager building and compiling graphs under ``floatX = dtype``."""
        raise NotImplementedError

    def matmul(self) -> Callable[[Any, Any], Any]:
        """numpy's ``matmul`` on symbolic tensors (what ``@`` does in ``fn``)."""
        return self.framework().tensor.matmul

    def linalg(self) -> dict[str, Any]:
        """numpy ``linalg`` names -> the framework's functions (what ``xp.linalg`` offers)."""
        raise NotImplementedError

    # -- the FunctionalBackend contract ----------------------------------------------------------

    def numerics(self) -> dict[str, str]:
        return {"floatX": "the spec's dtype"}

    def unsupported_reason(self, spec: Spec) -> str | None:
        if spec.uses_scan:  # symbolic lengths: a Python loop cannot run over them
            return (f"{self.name} does not map scan yet ({self.module_name}.scan would; the "
                    "inputs' lengths are symbolic, so the Python loop cannot run)")
        return super().unsupported_reason(spec)

    def namespace(self) -> Namespace:
        return Namespace(f"{self.module_name}.tensor", self.framework().tensor, self.matmul(),
                         self.linalg())

    def inner_grad(self) -> Callable[[Callable], Callable]:
        grad = self.framework().gradient.grad

        def operator(f: Callable) -> Callable:
            """The gradient of scalar ``f`` w.r.t. its first argument (a tensor or a list)."""
            return lambda first, *rest: grad(f(first, *rest), first)
        return operator

    def compile(self, compute: Callable[..., Derivatives]) -> Callable[..., Derivatives]:
        """Build the graph on symbolic inputs typed like the first arrays, compile it with
        ``function`` and reuse it for every later call with arrays of those types."""
        compiled: dict[tuple, Callable[..., Derivatives]] = {}

        def run(wrt: dict, fixed: dict) -> Derivatives:
            arrays = {**wrt, **fixed}
            key = tuple((n, a.dtype, a.shape) for n, a in arrays.items())
            function = compiled.get(key)
            if function is None:
                function = compiled[key] = self._function(compute, wrt, fixed)
            return function(arrays)
        return run

    def _function(self, compute: Callable[..., Derivatives], wrt: dict, fixed: dict
                  ) -> Callable[[dict], Derivatives]:
        """One compiled function for arrays typed like ``wrt`` and ``fixed``."""
        dtype = str(np.result_type(*wrt.values()))
        names = [*wrt, *fixed]
        with self.float_flags(dtype):
            symbols = {n: self.variable(n, a) for n, a in {**wrt, **fixed}.items()}
            value, derivatives = compute({n: symbols[n] for n in wrt},
                                         {n: symbols[n] for n in fixed})
            value, derivatives = self._in_dtype(value, derivatives, dtype)
            function = self.framework().function(
                [symbols[n] for n in names], [value, *derivatives.values()],
                on_unused_input="ignore", mode=self.mode())

        def call(arrays: dict) -> Derivatives:
            value, *outputs = function(*(arrays[n] for n in names))
            return value, dict(zip(derivatives, outputs))
        return call

    def mode(self) -> Any:
        """How graphs are compiled: the framework's ``FAST_COMPILE`` mode (its Python
        implementation of each op, light rewrites), so no spec waits for a C or numba
        compiler (hundreds of small graphs would take many minutes on a cold cache); a
        ``mode=`` in the user's ``<FRAMEWORK>_FLAGS`` wins.

        Not ``Mode(linker="py", optimizer="fast_run")``: measured with pytensor 3.0.7, one of
        its rewritten ops computes a float64 sparse cross-entropy gradient to only 6.5e-8
        in that combination, where FAST_COMPILE, FAST_RUN (C) and NUMBA agree to 4e-16."""
        flags = os.environ.get(f"{self.module_name.upper()}_FLAGS", "")
        return None if "mode=" in flags.replace(" ", "") else "FAST_COMPILE"

    def _in_dtype(self, value: Any, derivatives: dict, dtype: str) -> tuple[Any, dict]:
        """The outputs cast to the spec's dtype where an op promoted them (pytensor's ``std``
        with ``ddof`` answers float64 for float32 input), as numpy returns them."""
        cast = self.framework().tensor.cast

        def fix(v: Any) -> Any:
            return v if v.dtype == dtype or not v.dtype.startswith("float") else cast(v, dtype)
        return fix(value), {n: fix(d) for n, d in derivatives.items()}

    def grad(self, f: Objective, wrt: dict, fixed: dict) -> Derivatives:
        value = f(wrt, fixed)
        grads = self.framework().gradient.grad(value, list(wrt.values()),
                                               disconnected_inputs="ignore")
        return value, dict(zip(wrt, grads))

    def jacobian(self, f: Objective, wrt: dict, fixed: dict) -> Derivatives:
        framework = self.framework()
        tensor = framework.tensor
        value = f(wrt, fixed)
        rows = framework.gradient.jacobian(value.flatten(), list(wrt.values()),
                                           disconnected_inputs="ignore")
        return value, {
            n: tensor.reshape(j, tensor.concatenate([value.shape, w.shape]),
                              ndim=value.ndim + w.ndim)
            for (n, w), j in zip(wrt.items(), rows)}

    def jvp(self, f: Objective, wrt: dict, fixed: dict, tangents: dict) -> Derivatives:
        value = f(wrt, fixed)
        constant = self.framework().tensor.constant
        return value, {n: self.pushforward(value, w, constant(tangents[n]))
                       for n, w in wrt.items()}

    def vjp(self, f: Objective, wrt: dict, fixed: dict, cotangent: Any) -> Derivatives:
        value = f(wrt, fixed)
        cotangent = self.framework().tensor.constant(cotangent)
        return value, dict(zip(wrt, self.pullback(value, list(wrt.values()), cotangent)))

    def pushforward(self, value: Any, w: Any, tangent: Any) -> Any:
        """``J_w @ tangent``, by ``Rop``."""
        return self.framework().gradient.Rop(value, w, tangent, disconnected_outputs="ignore")

    def pullback(self, value: Any, wrt: list, cotangent: Any) -> list:
        """``cotangent @ J_w`` for each ``w`` in ``wrt``, by ``Lop``."""
        return self.framework().gradient.Lop(value, wrt, cotangent, disconnected_inputs="ignore")

    def hvp(self, f: Objective, wrt: dict, fixed: dict, tangents: dict) -> Derivatives:
        framework = self.framework()
        grad, tensor = framework.gradient.grad, framework.tensor
        value = f(wrt, fixed)
        grads = grad(value, list(wrt.values()), disconnected_inputs="ignore")
        along = sum((g * tensor.constant(tangents[n])).sum() for n, g in zip(wrt, grads))
        return value, dict(zip(wrt, grad(along, list(wrt.values()),
                                          disconnected_inputs="ignore")))
