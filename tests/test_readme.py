"""README's examples run and print what README says they print."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from conftest import require_backend

README = Path(__file__).resolve().parent.parent / "README.md"


def example(marker: str) -> str:
    """The python code block right after ``<!-- readme-example: marker -->``."""
    text = README.read_text()
    found = re.search(rf"<!-- readme-example: {marker} -->\s*```python\n(.*?)```", text, re.S)
    assert found, f"README has no example marked {marker!r}"
    return found.group(1)


def test_own_code_example_reports_the_stale_session() -> None:
    require_backend("tf-graph")
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


def test_python_api_example_prints_what_readme_shows() -> None:
    require_backend("jax")
    require_backend("autograd")
    proc = subprocess.run([sys.executable, "-c", example("python-api")], capture_output=True,
                          text=True, cwd=README.parent)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stdout == output("python-api")


def test_user_catalog_example_lists_and_runs_as_readme_shows(tmp_path: Path) -> None:
    require_backend("jax")
    require_backend("autograd")
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
