"""Property-based: whatever is thrown at the Spec constructor, the only exception is SpecError.

Hypothesis builds malformed arrays (every dtype, empty, NaN/Inf, ragged, objects), names,
``wrt``, kinds, dtypes, roles, tangents, cotangents and functions, mixed with valid ones so
that the checks further down the constructor are reached too.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from conformance.spec import KINDS, Spec, SpecError

NAMES = st.sampled_from(["x", "w", "y"]) | st.text(max_size=6)
SHAPES = hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=3)
DTYPES = st.sampled_from(["float64", "float32", "float16", "int64", "int8", "bool",
                          "complex128", "uint8", "longdouble"])

#: Arrays of any dtype and shape, values including NaN and infinities.
ARRAYS = st.one_of(
    hnp.arrays(DTYPES, SHAPES),
    hnp.arrays(np.float64, SHAPES, elements=st.floats(-5, 5)),
)
#: Things that are not arrays at all.
NOT_ARRAYS = st.one_of(
    st.none(), st.text(max_size=4), st.just([[1.0, 2.0], [3.0]]), st.just([object()]),
    st.just({"a": 1}), st.floats(), st.integers(), st.just(np.array("text")),
    st.lists(st.floats(allow_nan=True), max_size=4),
)
VALUES = ARRAYS | NOT_ARRAYS


def _constant(result):
    return lambda xp, **arrays: result


FUNCTIONS = st.one_of(
    st.just(lambda xp, **a: sum(xp.sum(v * v) for v in a.values())),  # a valid scalar
    st.just(lambda xp, **a: next(iter(a.values()))),  # the first array itself
    st.just(lambda xp, **a: 1 / 0),  # raises
    st.just(lambda xp, x: xp.sum(x)),  # wrong signature unless the array is called x
    ARRAYS.map(_constant) | NOT_ARRAYS.map(_constant),  # constant outputs of any kind
)


#: Arrays a valid spec may hold: finite floats, at least one element.
GOOD_ARRAYS = hnp.arrays(st.sampled_from([np.float64, np.float32]),
                         hnp.array_shapes(min_dims=0, max_dims=2, min_side=1, max_side=3),
                         elements=st.floats(-3, 3, width=32))


@st.composite
def spec_fields(draw) -> dict:
    """Spec keyword arguments; each field is malformed one time in six, so that the checks
    late in the constructor are reached as well as the early ones."""
    def pick(good, bad):
        return draw(bad if draw(st.integers(0, 5)) == 5 else good)

    arrays = pick(st.dictionaries(st.sampled_from(["x", "w", "y"]), GOOD_ARRAYS, min_size=1,
                                  max_size=3),
                  st.dictionaries(NAMES, VALUES, max_size=3) | NOT_ARRAYS)
    names = sorted(arrays) if isinstance(arrays, dict) and arrays else ["x"]
    kind = pick(st.sampled_from(KINDS), st.text(max_size=4) | st.none())
    wrt = pick(st.lists(st.sampled_from(names), min_size=1, max_size=2, unique=True),
               st.lists(NAMES, max_size=2) | st.none() | st.integers() | NAMES)
    directions = st.fixed_dictionaries({n: GOOD_ARRAYS for n in wrt}) \
        if isinstance(wrt, list) and set(wrt) <= set(names) else st.just({})
    return {
        "name": pick(st.just("case"), st.text(max_size=5) | st.integers() | st.none()),
        "fn": pick(FUNCTIONS, st.sampled_from([None, 3, "fn"])),
        "arrays": arrays,
        "wrt": wrt,
        "kind": kind,
        "roles": pick(st.dictionaries(st.sampled_from(names), st.sampled_from(
            ["input", "param", "target"]), max_size=2),
            st.dictionaries(NAMES, st.sampled_from(["weights", 1]), max_size=2) | NOT_ARRAYS),
        "dtype": pick(st.sampled_from(["float64", "float32"]), DTYPES | st.none()),
        "tangents": pick(directions if kind in ("jvp", "hvp") else st.just({}),
                         st.dictionaries(NAMES, VALUES, max_size=2) | NOT_ARRAYS),
        "cotangent": pick(GOOD_ARRAYS if kind == "vjp" else st.none(), VALUES),
        "uses_grad": draw(st.booleans()),
        "reference_fn": pick(st.none(), FUNCTIONS),
    }


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(spec_fields())
def test_the_spec_constructor_raises_only_spec_error(fields) -> None:
    try:
        spec = Spec(**fields)
    except SpecError as exc:
        assert str(exc).strip() and exc.field  # names the field
        return
    assert all(a.dtype == np.float64 and np.all(np.isfinite(a)) for a in spec.arrays.values())
    assert set(spec.wrt) <= set(spec.arrays)


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # x * x overflows for huge x
@settings(max_examples=150, deadline=None)
@given(ARRAYS | NOT_ARRAYS)
def test_any_single_array_is_accepted_clean_or_rejected_with_spec_error(value) -> None:
    try:
        spec = Spec("one", lambda xp, x: xp.sum(x * x), {"x": value}, ("x",))
    except SpecError as exc:
        assert exc.field in ("arrays['x']", "fn")
        return
    stored = spec.arrays["x"]
    assert stored.dtype == np.float64 and stored.size > 0 and np.all(np.isfinite(stored))
    assert not stored.flags.writeable
