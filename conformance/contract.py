"""Check that a program's output keeps the contract before any number is compared.

A program must return a dict with ``"value"`` and one key per ``wrt`` name, each a real
float numpy array of the documented shape. Anything else becomes an error message naming
the key and what was expected; nothing here raises.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from conformance.spec import Spec, derivative_shape

_PLAIN = (type(None), bool, int, float, complex, str)


@dataclass(frozen=True)
class Foreign:
    """What a worker sends back in place of an output that is not a plain numpy array
    (a framework tensor, an unpicklable object): its type and a short description."""

    type_name: str
    description: str = ""


def type_name(item: Any) -> str:
    """``module.Class`` of an output item, or of the object a :class:`Foreign` stands for."""
    if isinstance(item, Foreign):
        return item.type_name
    return f"{type(item).__module__}.{type(item).__qualname__}"


def _describe(item: Any) -> str:
    """The item's shape and dtype when it has them, e.g. ``(4, 5) float32``."""
    try:
        return " ".join(str(getattr(item, attr)) for attr in ("shape", "dtype")
                        if hasattr(item, attr))[:120]
    except Exception:  # noqa: BLE001 - a tensor whose attributes raise is still named
        return ""


def _portable_item(item: Any) -> Any:
    if isinstance(item, _PLAIN) or isinstance(item, tuple) and all(isinstance(i, _PLAIN)
                                                                    for i in item):
        return item
    if isinstance(item, np.ndarray | np.generic) and item.dtype != object:
        return item
    return Foreign(type_name(item), _describe(item))


def portable(output: Any) -> Any:
    """``output`` as a worker sends it back: numpy arrays and plain scalars are kept, anything
    else (framework tensors, unpicklable objects) becomes a :class:`Foreign` so that
    :func:`contract_violation` can still name the key and the type."""
    if isinstance(output, dict):
        return {k if isinstance(k, str | int | float) else repr(k): _portable_item(v)
                for k, v in output.items()}
    return _portable_item(output)


def expected_shapes(spec: Spec, value_shape: tuple[int, ...]) -> dict[str, tuple[int, ...]]:
    """The shape of every key a program must return."""
    shapes = {"value": tuple(value_shape)}
    shapes.update({n: derivative_shape(spec, n, value_shape) for n in spec.wrt})
    return shapes


def contract_violation(spec: Spec, output: Any, value_shape: tuple[int, ...]) -> str | None:
    """Why ``output`` breaks the program contract, or None when it keeps it."""
    if not isinstance(output, dict):
        what = "None" if output is None else type_name(output)
        return f"the program returned {what}, expected a dict of numpy arrays"
    shapes = expected_shapes(spec, value_shape)
    missing = [k for k in shapes if k not in output]
    if missing:
        return f"missing key(s) {', '.join(map(repr, missing))}; expected keys {list(shapes)}"
    extra = [k for k in output if k not in shapes]
    if extra:
        return f"unexpected key(s) {', '.join(map(repr, extra))}; expected keys {list(shapes)}"
    for key, shape in shapes.items():
        item = output[key]
        if item is None:
            return (f"key {key!r} is None: the gradient is disconnected or the input was not "
                    f"watched (expected a {spec.dtype} array of shape {shape})")
        if not isinstance(item, np.ndarray | np.generic):
            about = _describe(item) if not isinstance(item, Foreign) else item.description
            return (f"key {key!r} is a {type_name(item)}" + (f" [{about}]" if about else "")
                    + ", not a numpy array; convert it with np.asarray")
        if item.dtype != np.dtype(spec.dtype):
            return f"key {key!r} has dtype {item.dtype}, expected {spec.dtype}"
        if np.shape(item) != shape:
            return f"key {key!r} has shape {np.shape(item)}, expected {shape}"
    return None
