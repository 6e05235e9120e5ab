"""Users' own catalogs: ``--catalog`` files and modules, registered catalogs, their errors,
their reproduction snippets, the pytest option, and spawned workers."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from conformance.harness import run
from conformance.results import Status
from conformance.user_catalogs import CatalogError, load_catalogs
from conformance.workers import WorkerOptions, in_workers

TESTS = Path(__file__).resolve().parent
ROOT = TESTS.parent

MY_SPECS = """\
import numpy as np
from conformance.spec import Spec


def cubic(xp, x):
    return xp.sum(x ** 3 - 2 * x)


def specs():
    return [Spec("my-cubic", cubic, {"x": np.array([0.5, -1.5, 2.0])}, ("x",)),
            Spec("my-cubic-lambda", lambda xp, x: xp.sum(x ** 3), {"x": np.ones(2)}, ("x",))]
"""

#: Broken catalog files -> what the one error line must say after ``--catalog NAME: ``.
BROKEN = {
    "syntax.py": ("x = 1\n\ndef specs(:\n    pass\n", "line 3: SyntaxError: invalid syntax"),
    "imports.py": ("import math\nimport no_such_module_xyz\n",
                   "line 2: ModuleNotFoundError: No module named 'no_such_module_xyz'"),
    "nospecs.py": ("x = 1\n", "defines no specs() function; define specs() returning a list"),
    "raises.py": ("import numpy as np\nfrom conformance.spec import Spec\n\n\ndef specs():\n"
                  "    ids = np.array([1, 2])\n"
                  "    return [Spec('s', lambda xp, x: xp.sum(x), {'x': ids}, ('x',))]\n",
                  "line 7: SpecError: arrays['x']: has dtype int64"),
    "notspec.py": ("def specs():\n    return ['cubic']\n",
                   "item 0 of the list specs() returned is of type str, not conformance.spec.Spec"),
    "notlist.py": ("def specs():\n    return None\n",
                   "specs() returned an object of type NoneType; return a list"),
    "dupes.py": ("from mine import specs as theirs\n\n\ndef specs():\n"
                 "    return theirs() + theirs()[:1]\n",
                 "spec name 'my-cubic' is used twice (earlier in it); give each spec its own name"),
    "missing.py": (None, "no such file"),
}


def gradparity(*args: str, cwd: Path, path: list[Path] = ()) -> subprocess.CompletedProcess:
    """The command in a subprocess whose PYTHONPATH puts ``path`` before the project."""
    pythonpath = os.pathsep.join([*map(str, path), str(TESTS), str(ROOT),
                                  os.environ.get("PYTHONPATH", "")])
    return subprocess.run([sys.executable, "-m", "conformance.cli", *args], capture_output=True,
                          text=True, cwd=cwd, env={**os.environ, "PYTHONPATH": pythonpath})


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    """A folder holding the good catalog (``mine.py``) and every broken one."""
    (tmp_path / "mine.py").write_text(MY_SPECS)
    for name, (text, _) in BROKEN.items():
        if text is not None:
            (tmp_path / name).write_text(text)
    return tmp_path


def test_specs_lists_a_catalog_file(folder: Path) -> None:
    proc = gradparity("specs", "--catalog", "mine.py", cwd=folder)
    assert proc.returncode == 0, proc.stderr
    assert [line.split()[0] for line in proc.stdout.splitlines()] == ["my-cubic",
                                                                      "my-cubic-lambda"]


def test_run_takes_a_file_a_module_and_builtin_together(backend, folder: Path) -> None:
    backend("autograd")
    proc = gradparity("run", "-b", "autograd", "-c", str(folder / "mine.py"), "-c", "builtin",
                      "-s", "my-cubic", "-s", "polynomial-float64", cwd=ROOT)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout.strip().splitlines()[-1] == "2 PASS"
    (folder / "pkg").mkdir()
    (folder / "pkg" / "__init__.py").write_text("")
    (folder / "pkg" / "cases.py").write_text(MY_SPECS)
    proc = gradparity("run", "-b", "autograd", "--catalog", "pkg.cases", "--table", "full",
                      cwd=ROOT, path=[folder])
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "my-cubic-lambda  PASS" in proc.stdout and "polynomial" not in proc.stdout


@pytest.mark.parametrize("name", list(BROKEN))
def test_a_broken_catalog_is_one_line_and_exit_2(folder: Path, name: str) -> None:
    for command in ("specs", "run"):
        proc = gradparity(command, "--catalog", name, cwd=folder, path=[folder])
        assert proc.returncode == 2, proc.stdout + proc.stderr
        assert proc.stdout == ""
        (line,) = proc.stderr.splitlines()
        assert line.startswith(f"gradparity: error: --catalog {name}: {BROKEN[name][1]}"), line


def test_a_name_in_two_catalogs_names_both(folder: Path) -> None:
    (folder / "again.py").write_text(MY_SPECS)
    with pytest.raises(CatalogError) as info:
        load_catalogs([str(folder / "mine.py"), str(folder / "again.py")])
    assert info.value.message() == (
        f"--catalog {folder / 'again.py'}: spec name 'my-cubic' is used twice "
        f"(also in {folder / 'mine.py'}); give each spec its own name")


def test_a_registered_catalog_is_listed_by_default_and_by_name(tmp_path: Path) -> None:
    """A distribution's ``gradparity.catalogs`` entry point, as an installed .dist-info."""
    site = tmp_path / "site"
    info = site / "mycases-1.0.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: mycases\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text("[gradparity.catalogs]\nmine = mycases_specs\n"
                                           "other = mycases_specs:more\n")
    (site / "mycases_specs.py").write_text(MY_SPECS + textwrap.dedent("""
        def more():
            return [Spec("my-other", cubic, {"x": np.ones(3)}, ("x",))]
        """))
    proc = gradparity("specs", cwd=tmp_path, path=[site])
    assert proc.returncode == 0, proc.stderr
    names = [line.split()[0] for line in proc.stdout.splitlines()]
    assert names[0] == "polynomial-float64" and names[-3:] == ["my-cubic", "my-cubic-lambda",
                                                               "my-other"]
    proc = gradparity("specs", "--catalog", "other", cwd=tmp_path, path=[site])
    assert proc.stdout.split()[0] == "my-other" and len(proc.stdout.splitlines()) == 1


def test_the_reproduction_snippet_loads_the_users_catalog(backend, folder: Path,
                                                          tmp_path: Path) -> None:
    backend("autograd")
    report = tmp_path / "out" / "report.json"
    report.parent.mkdir()
    proc = gradparity("run", "-b", "plugin_backends:Wrong", "-c", "mine.py", "-s", "my-cubic",
                      "--json", str(report), cwd=folder)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    (result,) = json.loads(report.read_text())["results"]
    snippet = result["reproduce"]
    assert f"find('my-cubic', {str(folder / 'mine.py')!r})" in snippet
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    pythonpath = os.pathsep.join([str(TESTS), str(ROOT), os.environ.get("PYTHONPATH", "")])
    proc = subprocess.run([sys.executable, "-c", snippet], capture_output=True, text=True,
                          cwd=elsewhere, env={**os.environ, "PYTHONPATH": pythonpath})
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "x[" in proc.stdout.strip().splitlines()[-1]  # the verdict names the worst element


def test_the_pytest_plugin_runs_a_users_catalog(backend, folder: Path) -> None:
    backend("autograd")
    pythonpath = os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])
    base = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q",
            "--gradparity-backend", "autograd"]
    env = {**os.environ, "PYTHONPATH": pythonpath}
    proc = subprocess.run([*base, "--gradparity-catalog", "mine.py"], capture_output=True,
                          text=True, cwd=folder, env=env)
    assert proc.returncode == 0, proc.stdout[-3000:]
    assert proc.stdout.strip().splitlines()[-1].startswith("2 passed")
    proc = subprocess.run([*base, "--gradparity-catalog", "raises.py"], capture_output=True,
                          text=True, cwd=folder, env=env)
    assert proc.returncode == 4  # pytest's usage error
    assert "--gradparity-catalog raises.py: line 7: SpecError: arrays['x']" in proc.stderr


def test_spawned_workers_load_the_users_catalog_file(backend, folder: Path) -> None:
    backend("autograd")
    from backends import load

    specs = load_catalogs([str(folder / "mine.py")]).specs
    report = run(specs, [load("autograd")],
                 executor=in_workers(WorkerOptions(jobs=1, timeout=60, start_method="spawn")))
    status = {r.spec: (r.status, r.message) for r in report.results}
    assert status["my-cubic"] == (Status.PASS, "")
    # a lambda cannot be pickled: ERROR saying so, as for any spec
    assert status["my-cubic-lambda"][0] is Status.ERROR
    assert "cannot be sent to a spawned worker" in status["my-cubic-lambda"][1]
