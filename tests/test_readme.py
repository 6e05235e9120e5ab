"""README's examples run and print what README says they print."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

README = Path(__file__).resolve().parent.parent / "README.md"


def example(marker: str) -> str:
    """The python code block right after ``<!-- readme-example: marker -->``."""
    text = README.read_text()
    found = re.search(rf"<!-- readme-example: {marker} -->\s*```python\n(.*?)```", text, re.S)
    assert found, f"README has no example marked {marker!r}"
    return found.group(1)


def test_own_code_example_reports_the_stale_session(backend) -> None:
    backend("tf-graph")
    code = example("own-code")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          cwd=README.parent)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stdout.strip().splitlines()[-1] == "FAIL ['stale-session']"
    fixed = code.replace("grad = sess.run(", "grad = K.get_session().run(")
    proc = subprocess.run([sys.executable, "-c", fixed], capture_output=True, text=True,
                          cwd=README.parent)
    assert proc.stdout.strip().splitlines()[-1] == "PASS []", proc.stderr[-2000:]


def output(marker: str) -> str:
    """The plain code block right after ``<!-- readme-output: marker -->``."""
    found = re.search(rf"<!-- readme-output: {marker} -->\s*```\n(.*?)```", README.read_text(),
                      re.S)
    assert found, f"README has no output marked {marker!r}"
    return found.group(1)


def test_python_api_example_prints_what_readme_shows(backend) -> None:
    backend("jax")
    backend("autograd")
    proc = subprocess.run([sys.executable, "-c", example("python-api")], capture_output=True,
                          text=True, cwd=README.parent)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stdout == output("python-api")


def test_user_catalog_example_lists_and_runs_as_readme_shows(backend, tmp_path: Path) -> None:
    backend("jax")
    backend("autograd")
    (tmp_path / "my_specs.py").write_text(example("user-catalog"))
    shown = output("user-catalog").splitlines()
    commands = [i for i, line in enumerate(shown) if line.startswith("$ gradparity ")]
    for start, end in zip(commands, [*commands[1:], len(shown)]):
        args = shown[start].removeprefix("$ gradparity ").split(" | ")[0].split()
        proc = subprocess.run([sys.executable, "-m", "conformance.cli", *args],
                              capture_output=True, text=True, cwd=tmp_path)
        assert proc.returncode == 0, proc.stdout + proc.stderr
        lines = proc.stdout.splitlines()
        if "| tail -1" in shown[start]:
            lines = lines[-1:]
        assert lines == shown[start + 1:end], shown[start]


def _cells(table: str) -> dict[tuple[str, str], tuple[str, float, str]]:
    """(spec, backend) -> (status, relative error, allowed) from a printed run table."""
    lines = [line for line in table.splitlines() if line.strip()]
    header = next(line.split() for line in lines if line.startswith("spec "))
    cells = {}
    for line in lines:
        words = line.split()
        if words and "-float" in words[0]:
            for backend, status, figures in zip(header[1:], words[1::2], words[2::2]):
                error, allowed = figures.split("/")
                cells[(words[0], backend)] = (status, float(error), allowed)
    return cells


def test_seed001_table_is_what_a_run_prints(backend) -> None:
    for name in ("tf-eager", "tf-graph", "jax", "autograd"):
        backend(name)
    shown = output("seed001-table")
    command = shown.splitlines()[0].removeprefix("$ gradparity ").replace("'", "").split()
    proc = subprocess.run([sys.executable, "-m", "conformance.cli", *command, "--color", "never"],
                          capture_output=True, text=True, cwd=README.parent, timeout=600)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert shown.strip().splitlines()[-1] in proc.stdout  # the totals line
    want, got = _cells(shown), _cells(proc.stdout)
    assert set(got) == set(want) and len(want) == 16
    for case, (status, error, allowed) in want.items():
        assert got[case][0] == status and got[case][2] == allowed, case
        # figures are rounding errors: the same to a factor 3 (or both at rounding level)
        assert got[case][1] <= max(3 * error, 1e-15) and error <= max(3 * got[case][1], 1e-15), (
            case, got[case][1], error)
