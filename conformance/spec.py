"""The gradient specification: a function, its arrays, and which derivative is wanted.

A spec is validated when it is built, so no backend ever sees an invalid one: every problem
raises :class:`SpecError` naming the field and the fix. Arrays are stored as read-only
float64 copies (the source of truth); a float32 spec casts them when it is run.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from conformance.differences import numeric_grad

#: Derivative kinds. ``grad``: gradient of a scalar output. ``jacobian``: full Jacobian,
#: shaped ``output.shape + array.shape``. ``jvp``: ``J_name @ tangents[name]``, output-shaped.
#: ``vjp``: ``cotangent @ J_name``, shaped like the array. ``hvp``: the ``name`` block of
#: ``H @ tangents`` for a scalar output, shaped like the array.
KINDS: tuple[str, ...] = ("grad", "jacobian", "jvp", "vjp", "hvp")
#: What an array is to the computation; the harness perturbs ``param`` arrays in its probes.
#: ``index``: an integer or bool array that is never differentiated (token ids, class labels,
#: gather indices, masks); it keeps its dtype and reaches the reference and backends unchanged.
ROLES: tuple[str, ...] = ("input", "param", "target", "index")
DTYPES: tuple[str, ...] = ("float64", "float32")
#: Names an array may not take: ``value`` is the program's output key, the others are
#: the arguments ``fn`` receives besides the arrays.
#: Whether numpy promotes by NEP 50 (numpy >= 2), as the frameworks do (see
#: ``Spec._check_keeps_dtype``).
_NEP50 = int(np.__version__.split(".")[0]) >= 2
RESERVED_NAMES: frozenset[str] = frozenset({"value", "xp", "grad", "scan"})


class SpecError(ValueError):
    """An invalid spec: names the field, what is wrong with it, and how to fix it."""

    def __init__(self, field_name: str, problem: str, fix: str) -> None:
        self.field = field_name
        self.problem = problem
        self.fix = fix
        super().__init__(f"{field_name}: {problem}. Fix: {fix}")


@dataclass(frozen=True, eq=False)
class Spec:
    """One derivative to compute: ``fn(xp, **arrays)`` differentiated w.r.t. ``wrt``.

    ``fn`` is written once against a numpy-like namespace ``xp`` (numpy, jax.numpy,
    autograd.numpy, tensorflow.experimental.numpy). With ``uses_grad=True`` it is called as
    ``fn(xp, grad=grad, **arrays)``, where ``grad(f)`` is the backend's own gradient operator
    (gradient of a scalar ``f`` w.r.t. its first argument), for specs that differentiate
    inside the function (hypergradients). With ``uses_scan=True`` it also gets
    ``scan=scan``, the backend's loop operator with ``jax.lax.scan`` semantics (see
    :mod:`conformance.loops`), so a long recurrence is one loop, not an unrolled graph.
    ``timeout`` (seconds) raises the per-case time budget for this spec above the run's.
    """

    name: str
    fn: Callable[..., Any]
    arrays: Mapping[str, np.ndarray]
    wrt: tuple[str, ...]
    kind: str = "grad"
    roles: Mapping[str, str] = field(default_factory=dict)
    dtype: str = "float64"
    tangents: Mapping[str, np.ndarray] = field(default_factory=dict)
    cotangent: np.ndarray | None = None
    uses_grad: bool = False
    reference_fn: Callable[..., Any] | None = None
    description: str = ""
    model: Any = None
    tags: tuple[str, ...] = ()
    uses_scan: bool = False
    timeout: float | None = None

    def __post_init__(self) -> None:
        _check_name(self.name)
        if not callable(self.fn):
            raise SpecError("fn", f"{type(self.fn).__name__} is not callable",
                            "pass a function fn(xp, **arrays)")
        if self.reference_fn is not None and not (self.uses_grad and callable(self.reference_fn)):
            raise SpecError("reference_fn", "given without uses_grad=True, or not callable",
                            "only specs that call grad inside fn take a reference_fn")
        if self.kind not in KINDS:
            raise SpecError("kind", f"unknown kind {self.kind!r}", f"use one of {', '.join(KINDS)}")
        if self.dtype not in DTYPES:
            raise SpecError("dtype", f"unknown dtype {self.dtype!r}",
                            f"use one of {', '.join(DTYPES)}")
        if self.timeout is not None and not (isinstance(self.timeout, int | float)
                                             and self.timeout > 0):
            raise SpecError("timeout", f"{self.timeout!r} is not a positive number of seconds",
                            "give seconds, e.g. timeout=120, or None for the run's timeout")
        normalize = object.__setattr__  # the dataclass is frozen; validation stores clean copies
        normalize(self, "arrays", _check_arrays("arrays", self.arrays, _index_names(self.roles)))
        normalize(self, "wrt", _check_wrt(self.wrt, self.arrays))
        normalize(self, "roles", _check_roles(self.roles, self.arrays))
        normalize(self, "tags", _check_tags(self.tags))
        self._check_directions()
        self._check_fits_dtype()
        value = self._run_numpy(self.arrays)
        self._check_output(value)
        if self.dtype != "float64":  # the value a backend computes, in the spec's dtype
            with np.errstate(all="ignore"):
                value = self._run_numpy(self.cast())
            if not _all_finite(value):
                raise SpecError("fn", f"output overflows (NaN or Inf) when computed in "
                                f"{self.dtype}, though finite in float64",
                                f"scale the arrays so fn stays finite in {self.dtype}, or use "
                                "dtype='float64'")
        self._check_keeps_dtype(value)

    # -- derived views -------------------------------------------------------------------

    @property
    def params(self) -> tuple[str, ...]:
        """Names of the arrays whose role is ``param`` (weights)."""
        return tuple(n for n in self.arrays if self.roles[n] == "param")

    @property
    def wrt_size(self) -> int:
        """Total number of scalars differentiated against."""
        return sum(self.arrays[n].size for n in self.wrt)

    def cast(self, arrays: Mapping[str, np.ndarray] | None = None) -> dict[str, np.ndarray]:
        """The arrays (default: the spec's own) in the spec's dtype, as backends get them;
        index arrays (integer or bool) keep their own dtype."""
        source = self.arrays if arrays is None else arrays
        return {k: np.array(v, dtype=self.dtype_of(k, v)) for k, v in source.items()}

    def dtype_of(self, name: str, array: np.ndarray | None = None) -> str:
        """The dtype backends get array ``name`` in: the spec's, or an index array's own."""
        array = self.arrays.get(name) if array is None else array
        return str(array.dtype) if array is not None and is_index_dtype(array.dtype) \
            else self.dtype

    def evaluate(self, xp: Any, arrays: Mapping[str, Any], grad: Callable | None = None,
                 scan: Callable | None = None) -> Any:
        """Call ``fn`` with the namespace ``xp`` (and ``grad``, ``scan`` if the spec uses them;
        without a ``scan``, a Python loop over ``xp``)."""
        if self.uses_scan:
            if scan is None:
                from conformance.loops import python_scan

                scan = python_scan(xp)
            arrays = {**arrays, "scan": scan}
        if self.uses_grad:
            if grad is None:
                if self.reference_fn is not None:
                    return self.reference_fn(xp, **arrays)
                grad = numeric_grad
            return self.fn(xp, grad=grad, **arrays)
        return self.fn(xp, **arrays)

    def with_arrays(self, **arrays: np.ndarray) -> Spec:
        """A copy of the spec with some arrays replaced (validated again)."""
        return replace(self, arrays={**self.arrays, **arrays})

    def as_dtype(self, dtype: str) -> Spec:
        """The same spec run in another dtype, named ``<name>-<dtype>``."""
        base = self.name.removesuffix("-float32").removesuffix("-float64")
        return replace(self, dtype=dtype, name=f"{base}-{dtype}")

    # -- validation helpers ----------------------------------------------------------------

    def _run_numpy(self, arrays: Mapping[str, np.ndarray]) -> Any:
        """``fn`` on numpy; whatever it raises is a SpecError on ``fn``."""
        try:
            return self.evaluate(np, arrays)
        except SpecError:
            raise
        except Exception as exc:  # noqa: BLE001 - whatever the user's fn raised
            raise SpecError("fn", f"raised {type(exc).__name__}: {exc} when run with xp=numpy",
                            "make fn run on numpy arrays with the spec's shapes") from exc

    def _check_fits_dtype(self) -> None:
        """Every array, tangent and cotangent is finite once cast to the spec's dtype."""
        largest = float(np.finfo(self.dtype).max)
        fields = {**{f"arrays[{k!r}]": v for k, v in self.arrays.items()},
                  **{f"tangents[{k!r}]": v for k, v in (self.tangents or {}).items()},
                  **({"cotangent": self.cotangent} if self.cotangent is not None else {})}
        for where, values in fields.items():
            peak = float(np.max(np.abs(values)))
            if peak > largest:
                raise SpecError(where, f"holds {peak:.3g}, beyond {self.dtype}'s largest "
                                f"number {largest:.3g}",
                                f"scale it below {largest:.3g}, or use dtype='float64'")

    def _check_directions(self) -> None:
        needs_tangents = self.kind in ("jvp", "hvp")
        given = not (self.tangents is None
                     or isinstance(self.tangents, Mapping) and not self.tangents)
        if needs_tangents:
            tangents = _check_arrays("tangents", self.tangents)
            missing = [n for n in self.wrt if n not in tangents]
            if missing:
                raise SpecError("tangents", f"no tangent for {', '.join(missing)}",
                                f"a {self.kind} spec needs one tangent array per wrt name")
            extra = [n for n in tangents if n not in self.wrt]
            if extra:
                raise SpecError("tangents", f"tangent for {', '.join(extra)} which is not in wrt",
                                "give tangents only for the names in wrt")
            for n in self.wrt:
                if tangents[n].shape != self.arrays[n].shape:
                    raise SpecError(f"tangents[{n!r}]",
                                    f"shape {tangents[n].shape} != array shape "
                                    f"{self.arrays[n].shape}",
                                    "make each tangent the shape of its array")
            object.__setattr__(self, "tangents", tangents)
        elif given:
            raise SpecError("tangents", f"given for a {self.kind} spec",
                            "tangents are only for jvp and hvp specs; drop them")
        if self.kind == "vjp":
            if self.cotangent is None:
                raise SpecError("cotangent", "missing",
                                "a vjp spec needs an output-shaped cotangent")
            cot = _check_arrays("cotangent", {"cotangent": self.cotangent})["cotangent"]
            object.__setattr__(self, "cotangent", cot)
        elif self.cotangent is not None:
            raise SpecError("cotangent", f"given for a {self.kind} spec",
                            "a cotangent is only for vjp specs; drop it")

    def _check_keeps_dtype(self, value: Any) -> None:
        """``fn`` on arrays of the spec's dtype returns that dtype: a float64 constant inside
        ``fn`` (``np.eye(d)``, ``np.ones(3)``) would turn a float32 computation into a float64
        one on every backend, which no backend can be blamed for. Only under numpy 2's
        promotion rules (NEP 50), which the frameworks share: numpy 1.x's value-based casting
        turns some float32 results float64 that every framework keeps float32 (the built-in
        ``vector-jacobian-float32`` on numpy 1.26), so there the check would blame the spec
        wrongly."""
        found = np.asarray(value).dtype
        if _NEP50 and found != np.dtype(self.dtype):
            raise SpecError("fn", f"spec {self.name!r} returns {found} for {self.dtype} arrays "
                            f"(on numpy): a constant of another dtype inside fn, such as "
                            f"np.eye(d) or np.ones(3), changes the dtype of the result",
                            "build constants from xp and the array's dtype, e.g. "
                            "xp.eye(d, dtype=x.dtype) or xp.asarray(c, dtype=x.dtype)")

    def _check_output(self, output: Any) -> None:
        """``fn``'s value at the spec's arrays: a finite float array of the kind's shape."""
        try:
            out = np.asarray(output)
        except Exception as exc:  # noqa: BLE001 - any failure to convert is the user's output
            raise SpecError("fn", f"output is not array-like ({exc})",
                            "return an array from fn") from None
        if not np.issubdtype(out.dtype, np.floating):
            raise SpecError("fn", f"output has dtype {out.dtype}, not float",
                            "return a float array from fn")
        if out.size == 0:
            raise SpecError("fn", f"output is empty (shape {out.shape}): there is nothing to "
                            "differentiate", "return an array with at least one element")
        if not np.all(np.isfinite(out)):
            raise SpecError("fn", "output has NaN or Inf at the spec's arrays",
                            "choose arrays where fn is finite")
        if self.kind in ("grad", "hvp") and out.ndim != 0:
            raise SpecError("fn",
                            f"a {self.kind} spec needs a scalar output, got shape {out.shape}",
                            "reduce the output (sum or mean), or use kind='jacobian'")
        if self.kind == "vjp" and self.cotangent.shape != out.shape:
            raise SpecError("cotangent",
                            f"shape {self.cotangent.shape} != output shape {out.shape}",
                            "make the cotangent the shape of fn's output")


def _check_name(name: Any) -> None:
    if not isinstance(name, str) or not name.strip():
        raise SpecError("name", f"{name!r} is not a non-empty string", "give the spec a name")
    if any(c.isspace() for c in name):
        raise SpecError("name", f"{name!r} contains whitespace", "use '-' or '_' instead of spaces")
    if not name.isprintable():  # NUL, ESC ...: reports (JUnit XML, terminals) must show it
        raise SpecError("name", f"{name!r} contains a control character",
                        "use printable characters only")


def _all_finite(output: Any) -> bool:
    """Whether ``output`` (anything fn returned) converts to an all-finite float array."""
    try:
        return bool(np.all(np.isfinite(np.asarray(output, dtype=np.float64))))
    except (TypeError, ValueError):
        return True  # not numbers at all: _check_output has said so for the float64 value


def _check_tags(tags: Any) -> tuple[str, ...]:
    if isinstance(tags, str) or not isinstance(tags, tuple | list):
        raise SpecError("tags", f"{tags!r} is not a tuple of strings",
                        "write tags=('fast',), not tags='fast'" if isinstance(tags, str)
                        else "give a tuple of strings, e.g. tags=('fast', 'model')")
    bad = [t for t in tags if not isinstance(t, str) or not t or not t.isprintable()]
    if bad:
        raise SpecError("tags", f"{bad[0]!r} is not a non-empty printable string",
                        "give a tuple of strings, e.g. tags=('fast', 'model')")
    return tuple(tags)


def is_index_dtype(dtype: Any) -> bool:
    """Whether arrays of ``dtype`` are index arrays (integer or bool), never differentiated."""
    return np.dtype(dtype).kind in "biu"


def _index_names(roles: Any) -> frozenset[str]:
    """The array names given role ``index`` (roles themselves are checked later)."""
    return frozenset(n for n, r in roles.items() if r == "index") \
        if isinstance(roles, Mapping) else frozenset()


def _check_arrays(field_name: str, arrays: Any,
                  index: frozenset[str] = frozenset()) -> dict[str, np.ndarray]:
    if not isinstance(arrays, Mapping):
        raise SpecError(field_name, f"is a {type(arrays).__name__}, not a mapping",
                        "pass a dict of name -> float array")
    checked: dict[str, np.ndarray] = {}
    for key, raw in arrays.items():
        where = f"{field_name}[{key!r}]"
        if not isinstance(key, str) or not key.isidentifier():
            raise SpecError(where, "the name is not a Python identifier",
                            "name arrays like keyword arguments")
        if key in RESERVED_NAMES:
            raise SpecError(where, f"the name {key!r} is reserved",
                            f"rename it; {', '.join(sorted(RESERVED_NAMES))} are reserved")
        try:
            arr = np.asarray(raw)
        except Exception as exc:  # noqa: BLE001 - ragged lists etc.
            raise SpecError(where, f"cannot be made an array ({exc})",
                            "pass a rectangular float array") from None
        if key in index:
            if not is_index_dtype(arr.dtype):
                raise SpecError(where, f"has role 'index' but dtype {arr.dtype}",
                                "role 'index' is for integer or bool arrays; give a float "
                                "array role 'input' (or convert it with astype(np.int64))")
            if arr.size == 0:
                raise SpecError(where, f"is empty (shape {arr.shape})",
                                "give it at least one element")
            stored = np.array(arr)
            stored.setflags(write=False)
            checked[key] = stored
            continue
        if is_index_dtype(arr.dtype) and field_name == "arrays":
            raise SpecError(where, f"has dtype {arr.dtype}, an integer or bool array",
                            f"if it is never differentiated (ids, labels, indices, a mask) give "
                            f"it role 'index': roles={{{key!r}: 'index'}}; else convert it, "
                            f"e.g. np.asarray(a, dtype=np.float64)")
        if not (np.issubdtype(arr.dtype, np.floating) and arr.dtype.itemsize in (2, 4, 8)):
            raise SpecError(where, f"has dtype {arr.dtype}, not a real float",
                            "convert it, e.g. np.asarray(a, dtype=np.float64)")
        if arr.size == 0:
            raise SpecError(where, f"is empty (shape {arr.shape})", "give it at least one element")
        if not np.all(np.isfinite(arr)):
            raise SpecError(where, "contains NaN or Inf", "use finite values")
        stored = np.array(arr, dtype=np.float64)
        stored.setflags(write=False)
        checked[key] = stored
    if field_name == "arrays" and not checked:
        raise SpecError("arrays", "is empty", "give fn at least one array")
    return checked


def _check_wrt(wrt: Any, arrays: Mapping[str, np.ndarray]) -> tuple[str, ...]:
    if wrt is not None and not isinstance(wrt, str | tuple | list):
        raise SpecError("wrt", f"is a {type(wrt).__name__}", "give a name or a tuple of names")
    names = (wrt,) if isinstance(wrt, str) else tuple(wrt) if wrt is not None else ()
    if not all(isinstance(n, str) for n in names):
        raise SpecError("wrt", f"{names!r} holds something other than names",
                        "give array names as strings")
    if not names:
        raise SpecError("wrt", "is empty", "name at least one array to differentiate against")
    for n in names:
        if n not in arrays:
            raise SpecError("wrt", f"unknown array {n!r}",
                            f"choose from {', '.join(arrays) or 'the arrays'}")
        if is_index_dtype(arrays[n].dtype):
            raise SpecError("wrt", f"{n!r} is an index array (dtype {arrays[n].dtype}), which "
                            "cannot be differentiated",
                            f"drop {n!r} from wrt, or make it a float array to differentiate it")
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise SpecError("wrt", f"names {', '.join(dupes)} more than once", "list each name once")
    return names


def _check_roles(roles: Any, arrays: Mapping[str, np.ndarray]) -> dict[str, str]:
    if not isinstance(roles, Mapping):
        raise SpecError("roles", f"is a {type(roles).__name__}, not a mapping",
                        "pass a dict of array name -> role")
    for n, role in roles.items():
        if n not in arrays:
            raise SpecError("roles", f"role for unknown array {n!r}",
                            f"choose from {', '.join(arrays)}")
        if role not in ROLES:
            raise SpecError(f"roles[{n!r}]", f"unknown role {role!r}",
                            f"use one of {', '.join(ROLES)}")
    return {n: roles.get(n, "input") for n in arrays}


def derivative_shape(spec: Spec, name: str, out_shape: tuple[int, ...]) -> tuple[int, ...]:
    """The shape a program must return for ``name``, given the output shape."""
    arr_shape = spec.arrays[name].shape
    if spec.kind == "jacobian":
        return tuple(out_shape) + arr_shape
    if spec.kind == "jvp":
        return tuple(out_shape)
    return arr_shape
