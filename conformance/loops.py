"""The loop operator handed to specs with ``uses_scan=True``, and its plain-Python form.

``scan(step, carry, xs)`` has ``jax.lax.scan``'s semantics: ``step(carry, x)`` returns
``(carry, y)``; ``xs`` is an array, or a tuple/list/dict of arrays, scanned along axis 0;
the result is ``(final carry, ys)`` with the ``y`` of every step stacked along a new axis 0
(the same structure as ``y``; ``None`` when ``step`` returns ``None`` for ``y``).

Each backend maps it to its own construct (``jax.lax.scan``, ``tf.scan``); the reference
and autograd run :func:`python_scan`, a Python loop over the namespace's own arrays.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

Scan = Callable[[Callable[[Any, Any], tuple[Any, Any]], Any, Any], tuple[Any, Any]]


def leaves(tree: Any) -> list[Any]:
    """The arrays of a tuple/list/dict tree (``None`` has none), in a fixed order."""
    if tree is None:
        return []
    if isinstance(tree, tuple | list):
        return [leaf for item in tree for leaf in leaves(item)]
    if isinstance(tree, dict):
        return [leaf for key in sorted(tree) for leaf in leaves(tree[key])]
    return [tree]


def rebuild(tree: Any, values: list[Any]) -> Any:
    """``tree`` with its leaves replaced, in :func:`leaves` order, by ``values`` (consumed)."""
    if tree is None:
        return None
    if isinstance(tree, tuple | list):
        return type(tree)(rebuild(item, values) for item in tree)
    if isinstance(tree, dict):
        rebuilt = {key: rebuild(tree[key], values) for key in sorted(tree)}
        return {key: rebuilt[key] for key in tree}
    return values.pop(0)


def python_scan(xp: Any) -> Scan:
    """``scan`` as a Python loop whose ys are stacked with ``xp.stack`` (reference, autograd)."""
    def scan(step: Callable[[Any, Any], tuple[Any, Any]], carry: Any, xs: Any) -> tuple[Any, Any]:
        arrays = leaves(xs)
        if not arrays:
            raise ValueError("scan: xs holds no array to scan over")
        length = arrays[0].shape[0]  # len() is not defined on a graph tensor
        ys, structure = [], None
        for i in range(length):
            carry, y = step(carry, rebuild(xs, [a[i] for a in arrays]))
            structure = y
            ys.append(leaves(y))
        if structure is None:
            return carry, None
        return carry, rebuild(structure, [xp.stack(column) for column in zip(*ys, strict=True)])
    return scan
