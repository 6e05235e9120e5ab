"""Every way to build an invalid spec raises SpecError naming the field and the fix."""

from __future__ import annotations

import numpy as np
import pytest

from conformance.spec import Spec, SpecError, derivative_shape

X = np.array([1.0, 2.0, 3.0])


def total(xp, x):
    return xp.sum(x**2)


def build(**overrides):
    fields = {"name": "s", "fn": total, "arrays": {"x": X}, "wrt": ("x",)}
    fields.update(overrides)
    return Spec(**fields)


BAD = [
    ({"name": ""}, "name"),
    ({"name": "has space"}, "name"),
    ({"fn": 3}, "fn"),
    ({"kind": "hessian"}, "kind"),
    ({"dtype": "float16"}, "dtype"),
    ({"arrays": [X]}, "arrays"),
    ({"arrays": {}}, "arrays"),
    ({"arrays": {"x": np.array([1, 2, 3])}}, "arrays['x']"),
    ({"arrays": {"x": np.array([1 + 2j])}}, "arrays['x']"),
    ({"arrays": {"x": np.array([True])}}, "arrays['x']"),
    ({"arrays": {"x": np.array([1.0, np.nan])}}, "arrays['x']"),
    ({"arrays": {"x": np.array([np.inf])}}, "arrays['x']"),
    ({"arrays": {"x": np.zeros((0,))}}, "arrays['x']"),
    ({"arrays": {"x": [[1.0], [2.0, 3.0]]}}, "arrays['x']"),
    ({"arrays": {"x": X, "value": X}}, "arrays['value']"),
    ({"arrays": {"x": X, "not-an-identifier": X}}, "arrays['not-an-identifier']"),
    ({"wrt": ()}, "wrt"),
    ({"wrt": ("y",)}, "wrt"),
    ({"wrt": ("x", "x")}, "wrt"),
    ({"roles": {"y": "param"}}, "roles"),
    ({"roles": {"x": "weight"}}, "roles['x']"),
    ({"fn": lambda xp, x: x * 2}, "fn"),  # grad spec with a vector output
    ({"fn": lambda xp, x: xp.sum(x.astype(int))}, "fn"),
    ({"fn": lambda xp, x: xp.log(x - 10).sum()}, "fn"),  # NaN output
    ({"fn": lambda xp, x: x.nonexistent()}, "fn"),
    ({"kind": "jvp"}, "tangents"),
    ({"kind": "jvp", "tangents": {"x": np.ones(2)}}, "tangents['x']"),
    ({"kind": "jvp", "tangents": {"x": X, "z": X}}, "tangents"),
    ({"tangents": {"x": X}}, "tangents"),
    ({"kind": "vjp", "fn": lambda xp, x: x * 2}, "cotangent"),
    ({"kind": "vjp", "fn": lambda xp, x: x * 2, "cotangent": np.ones(4)}, "cotangent"),
    ({"cotangent": np.ones(1)}, "cotangent"),
    ({"kind": "hvp", "fn": lambda xp, x: x, "tangents": {"x": X}}, "fn"),
    ({"reference_fn": total}, "reference_fn"),
    ({"name": "nul\x00name"}, "name"),  # control characters would break JUnit XML
    ({"name": "esc\x1b[31mred"}, "name"),
    ({"tags": "fast"}, "tags"),  # a string is not a tuple of strings
    ({"tags": ("fast", 3)}, "tags"),
    ({"tags": {"fast": 1}}, "tags"),
    ({"tags": ("",)}, "tags"),
    # beyond float32's largest number: the backend would see inf, not the spec's arrays
    ({"arrays": {"x": np.array([1.0, 1e39])}, "dtype": "float32"}, "arrays['x']"),
    ({"kind": "jvp", "tangents": {"x": np.array([1.0, 1e39, 0.0])}, "dtype": "float32"},
     "tangents['x']"),
    # finite in float64, overflowing when computed in float32 (exp(100) > 3.4e38)
    ({"fn": lambda xp, x: xp.sum(xp.exp(50 * x)), "dtype": "float32"}, "fn"),
]
if np.lib.NumpyVersion(np.__version__) >= "2.0.0":  # numpy 1.x computes float32 * 1e38 in
    BAD.append(({"fn": lambda xp, x: xp.sum(x) * 1e38, "dtype": "float32"}, "fn"))  # float64


@pytest.mark.parametrize(("overrides", "field"), BAD,
                         ids=[f"{b[1]}-{i}" for i, b in enumerate(BAD)])
@pytest.mark.filterwarnings("ignore:invalid value encountered:RuntimeWarning")  # the NaN case
def test_invalid_spec_names_the_field_and_fix(overrides, field) -> None:
    with pytest.raises(SpecError) as info:
        build(**overrides)
    assert info.value.field == field
    assert "Fix:" in str(info.value) and info.value.fix


def test_valid_spec_stores_read_only_float64_copies() -> None:
    source = np.array([1.0, 2.0], dtype=np.float32)
    spec = build(arrays={"x": source})
    source[0] = 99.0
    assert spec.arrays["x"].dtype == np.float64 and spec.arrays["x"][0] == 1.0
    with pytest.raises(ValueError):
        spec.arrays["x"][0] = 5.0
    assert spec.roles == {"x": "input"}


def test_cast_and_dtype_variants() -> None:
    spec = build().as_dtype("float32")
    assert spec.name == "s-float32" and spec.cast()["x"].dtype == np.float32
    assert spec.as_dtype("float64").name == "s-float64"


def test_derivative_shapes_per_kind() -> None:
    vec = lambda xp, x: x * 2  # noqa: E731
    assert derivative_shape(build(), "x", ()) == (3,)
    assert derivative_shape(build(fn=vec, kind="jacobian"), "x", (3,)) == (3, 3)
    assert derivative_shape(build(fn=vec, kind="jvp", tangents={"x": X}), "x", (3,)) == (3,)


def test_inner_grad_spec_uses_numeric_grad_on_numpy() -> None:
    def one_step(xp, grad, w, x):
        step = w - 0.1 * grad(lambda w: xp.sum((w * x) ** 2))(w)
        return xp.sum(step**2)

    spec = build(fn=one_step, arrays={"w": X, "x": X[::-1].copy()}, wrt=("x",), uses_grad=True)
    w, x = X, X[::-1]
    want = np.sum((w - 0.2 * w * x**2) ** 2)
    assert abs(spec.evaluate(np, spec.arrays) - want) < 1e-9


def test_float32_validation_keeps_specs_that_fit_and_names_the_fix() -> None:
    fits = build(fn=lambda xp, x: xp.sum(xp.exp(20 * x)), dtype="float32")  # exp(60) fits
    assert fits.dtype == "float32"
    assert build(fn=lambda xp, x: xp.sum(xp.exp(50 * x))).dtype == "float64"  # fine in float64
    with pytest.raises(SpecError) as info:  # as_dtype validates again
        build(fn=lambda xp, x: xp.sum(xp.exp(50 * x))).as_dtype("float32")
    assert "when computed in float32" in str(info.value) and "dtype='float64'" in info.value.fix


def test_tags_become_a_tuple_of_strings() -> None:
    assert build(tags=["fast", "model"]).tags == ("fast", "model")
    assert build().tags == ()
