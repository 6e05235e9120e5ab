"""A spec's own problem is said once, as the spec's, when it is built: an ``fn`` whose
result leaves the spec's dtype (a float64 numpy constant in a float32 computation), or an
empty output."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from conformance.catalog import catalog
from conformance.spec import Spec, SpecError

ROOT = Path(__file__).resolve().parent.parent
#: The dtype check follows numpy 2's promotion (NEP 50); numpy 1.x (Theano's env) skips it.
needs_nep50 = pytest.mark.skipif(np.lib.NumpyVersion(np.__version__) < "2.0.0",
                                 reason="numpy 1.x casts by value: the dtype check is off")


def _promoting(xp, x):
    return xp.sum((np.eye(2) @ x) ** 2)  # np.eye is float64 whatever x is


def _dtype_correct(xp, x):
    return xp.sum((xp.eye(2, dtype=x.dtype) @ x) ** 2)


@needs_nep50
def test_a_float64_constant_in_a_float32_spec_is_the_specs_error_naming_the_fix() -> None:
    arrays = {"x": np.array([0.5, 1.5])}
    Spec("promoting", _promoting, arrays, ("x",))  # float64: nothing to say
    with pytest.raises(SpecError) as caught:
        Spec("promoting", _promoting, arrays, ("x",), dtype="float32")
    assert caught.value.field == "fn"
    assert "'promoting' returns float64 for float32 arrays" in str(caught.value)
    assert "xp.eye(d, dtype=x.dtype)" in caught.value.fix
    Spec("dtype-correct", _dtype_correct, arrays, ("x",), dtype="float32")


@pytest.mark.parametrize("kind", ["jacobian", "jvp", "vjp"])
def test_an_empty_output_is_the_specs_error(kind: str) -> None:
    extra = {"jvp": {"tangents": {"x": np.ones(3)}}, "vjp": {"cotangent": np.ones(0)}}
    with pytest.raises(SpecError, match="is empty"):
        Spec("empty", lambda xp, x: x[:0], {"x": np.ones(3)}, ("x",), kind=kind,
             **extra.get(kind, {}))


@needs_nep50
def test_every_builtin_float32_case_keeps_its_dtype() -> None:
    found = [s for s in catalog() if s.dtype == "float32"]
    assert found and all(np.asarray(s.evaluate(np, s.cast())).dtype == np.float32
                         for s in found if s.model is None)


@needs_nep50
def test_a_catalog_with_a_promoting_spec_is_one_line_naming_spec_and_fix(tmp_path: Path
                                                                          ) -> None:
    (tmp_path / "mine.py").write_text(textwrap.dedent("""\
        import numpy as np
        from conformance.spec import Spec


        def specs():
            return [Spec("rotate", lambda xp, x: xp.sum(np.ones(2) * x),
                         {"x": np.array([0.5, 1.5])}, ("x",), dtype="float32")]
        """))
    proc = subprocess.run([sys.executable, "-m", "conformance.cli", "run", "--catalog",
                           "mine.py", "-b", "autograd"], cwd=tmp_path, capture_output=True,
                          text=True, env={"PYTHONPATH": f"{ROOT}:{tmp_path}",
                                          "PATH": "/usr/bin:/bin"})
    assert proc.returncode == 2, proc.stdout + proc.stderr
    (line,) = proc.stderr.splitlines()
    assert "'rotate' returns float64 for float32 arrays" in line
    assert "xp.eye(d, dtype=x.dtype)" in line
