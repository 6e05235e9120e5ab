"""``conformance.check``: several backends against one shared reference, with every array."""

from __future__ import annotations

import numpy as np
import pytest

import conformance.probes
from backends import FunctionBackend, load
from conformance import Checked, check
from conformance.reference import compute_reference
from conformance.results import Status
from conformance.spec import Spec

X = np.array([0.3, -1.2, 2.0])
SPEC = Spec("cubic", lambda xp, x: xp.sum(x**3 - 2 * x), {"x": X}, ("x",))
GRADIENT = 3 * X**2 - 2  # d/dx sum(x^3 - 2x)


def by_hand(spec: Spec, arrays):
    return {"value": np.sum(arrays["x"] ** 3 - 2 * arrays["x"]), "x": 3 * arrays["x"] ** 2 - 2}


def off_by_one_percent(spec: Spec, arrays):
    return {**by_hand(spec, arrays), "x": 1.01 * (3 * arrays["x"] ** 2 - 2)}


def crashing(spec: Spec, arrays):
    raise RuntimeError("boom")


def test_every_backend_gets_its_verdict_its_arrays_and_the_shared_reference(backend, monkeypatch
                                                                            ) -> None:
    backend("autograd")
    computed = []

    def counting(spec, arrays=None, **kwargs):
        computed.append(spec.name)
        return compute_reference(spec, arrays, **kwargs)

    monkeypatch.setattr(conformance.probes, "compute_reference", counting)
    checked = check(SPEC, [load("autograd"), by_hand, off_by_one_percent, crashing])
    assert isinstance(checked, Checked)
    assert list(checked.answers) == ["autograd", "by_hand", "off_by_one_percent", "crashing"]
    # the base reference once (the repeat call shares it; no params: no perturbed call)
    assert computed == ["cubic"]
    statuses = {name: answer.status for name, answer in checked}
    assert statuses == {"autograd": Status.PASS, "by_hand": Status.PASS,
                        "off_by_one_percent": Status.FAIL, "crashing": Status.ERROR}
    np.testing.assert_allclose(checked.answers["autograd"].output["x"], GRADIENT, rtol=1e-12)
    np.testing.assert_allclose(checked.answers["off_by_one_percent"].output["x"], 1.01 * GRADIENT)
    assert checked.answers["crashing"].output is None
    assert "boom" in checked.answers["crashing"].result.message
    np.testing.assert_allclose(checked.reference["x"], GRADIENT, rtol=1e-9)
    assert checked.reference["value"] == pytest.approx(np.sum(X**3 - 2 * X))
    assert checked.reference_details.mode == "full"
    assert not checked.ok
    assert checked.answers["autograd"].result.pairwise["off_by_one_percent"] > 1e-3


def test_a_passing_set_is_ok_and_names_must_be_distinct() -> None:
    assert check(SPEC, [by_hand, FunctionBackend("again", by_hand)]).ok
    with pytest.raises(ValueError, match="share a name"):
        check(SPEC, [by_hand, by_hand])
