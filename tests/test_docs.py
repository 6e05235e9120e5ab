"""README.md and the docs site: every example runs, every output shown is what this checkout
prints (figures that are rounding errors aside: they differ between machines), every status
shown agrees with its figures, and the site builds strictly.

The blocks are the marked ones of ``docs/generate.py`` (its docstring lists the markers);
``python docs/generate.py`` rewrites the outputs when they are stale.
"""

from __future__ import annotations

import importlib.util
import json
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from conftest import docs_generate

from backends.registry import known

ROOT = Path(__file__).resolve().parent.parent
generate = docs_generate()
DOCS = generate.collect()
#: The outputs an example prints are checked with the example; the others are run here.
SESSIONS = [b for b in DOCS.blocks
            if b.kind == "generated" or (b.kind == "output" and b.text.startswith("$ "))]


def ids(blocks: list) -> list[str]:
    return [f"{b.path.stem}-{b.kind}-{b.name}" for b in blocks]


def require(block, backend) -> None:
    """Skip unless what the block needs is installed (backend names, else modules), and on
    numpy 1.x (Theano's env): the docs show what the main environment, numpy 2, prints
    (numpy 1.x leaves out the cases it cannot compute and casts by value)."""
    if np.lib.NumpyVersion(np.__version__) < "2.0.0":
        pytest.skip(f"{block.where} shows numpy 2's output; this is numpy {np.__version__}")
    for name in block.needs:
        if name in known():
            backend(name)
        elif importlib.util.find_spec(name) is None:
            pytest.skip(f"{block.where} needs {name}, which is not installed")


def test_docs_have_the_examples_they_are_known_for() -> None:
    names = {b.name for b in DOCS.of("example")}
    assert {"own-code", "python-api", "user-catalog", "scan", "spec"} <= names
    assert {b.name for b in DOCS.of("generated")} == set(generate.GENERATORS)
    assert len({(b.kind, b.name) for b in DOCS.blocks if b.kind != "fragment"}) == len(
        [b for b in DOCS.blocks if b.kind != "fragment"]), "two blocks share a name"


def test_every_python_fence_is_an_example_or_a_fragment() -> None:
    assert generate.unmarked_python_fences() == []


@pytest.mark.parametrize("block", DOCS.of("fragment"), ids=ids(DOCS.of("fragment")))
def test_fragment_compiles(block) -> None:
    compile(block.text, block.where, "exec")


@pytest.mark.parametrize("block", DOCS.of("example"), ids=ids(DOCS.of("example")))
def test_example_runs_and_prints_what_the_docs_show(block, backend, tmp_path: Path) -> None:
    require(block, backend)
    proc = generate.run_example(block.text, cwd=tmp_path)
    assert proc.returncode == 0, f"{block.where}:\n{proc.stderr[-3000:]}"
    shown = DOCS.named("output", block.name)
    if shown is not None and not shown.text.startswith("$ "):
        assert generate.same_but_figures(shown.text, proc.stdout), (
            f"{shown.where} shows\n{shown.text}but the example prints\n{proc.stdout}"
            "(python docs/generate.py rewrites it)")


def test_own_code_example_passes_once_the_mistake_is_fixed(backend, tmp_path: Path) -> None:
    backend("tf-graph")
    code = DOCS.named("example", "own-code").text
    fixed = code.replace("grad = sess.run(", "grad = K.get_session().run(")
    assert fixed != code
    proc = generate.run_example(fixed, cwd=tmp_path)
    assert proc.stdout.strip().splitlines()[-1] == "PASS []", proc.stderr[-2000:]


@pytest.mark.parametrize("block", SESSIONS, ids=ids(SESSIONS))
def test_output_is_what_this_checkout_prints(block, backend) -> None:
    require(block, backend)
    try:
        fresh = generate.render(block, DOCS)
    except generate.Unavailable as why:
        pytest.skip(f"{block.where}: {why}")
    assert generate.cell_problems(fresh) == []
    assert generate.same_but_figures(block.text, fresh), (
        f"{block.where} is stale; it shows\n{block.text}\nbut this checkout prints\n{fresh}\n"
        "(python docs/generate.py rewrites it)")


@pytest.mark.parametrize("block", DOCS.of("output"), ids=ids(DOCS.of("output")))
def test_every_status_shown_agrees_with_its_figures(block) -> None:
    assert generate.cell_problems(block.text) == []


def test_json_report_sample_has_the_fields_a_report_has() -> None:
    from conformance.reports.json import to_json
    from conformance.results import Report, Result, Status

    sample = json.loads(DOCS.named("sample", "json-report").text)
    real = to_json(Report([Result("s", "b", Status.PASS)], {}))
    assert set(sample) == set(real), "docs/reference/json.md shows other top-level fields"
    assert set(sample["results"][0]) == set(real["results"][0]), (
        "docs/reference/json.md shows other result fields than a report has")


def test_figure_blind_comparison() -> None:
    same = generate.same_but_figures
    assert same("PASS 5.2e-08/1e-03  PASS 1.1e-07/1e-03\n",
                "PASS 2.1e-07/1e-03 PASS 1.1e-07/1e-03\n")  # another machine's rounding
    assert not same("PASS 5.2e-08/1e-03\n", "FAIL 5.2e-08/1e-03\n")      # a status
    assert not same("16 PASS\n", "15 PASS\n")                              # a count
    assert same("[0.77307  0.831763]\n", "[0.773071 0.831763]\n")         # the last digit
    assert not same("[0.77307  0.831763]\n", "[0.77317  0.831763]\n")
    assert not same("x: 0.5; y: 0.5\n", "x: 1; y: 0\n")                   # a convention
    assert not same("a\nb\n", "a b\n")                                     # the lines
    assert same("jax 0.10.2, jaxlib 0.10.2\n", "jax 0.4.30, jaxlib 0.4.30\n")  # versions
    assert same("numpy 2.4.6, Linux-6.18.44-fc-v509-x86_64\n", "numpy 2.4.6, Linux-6.1.0-amd64\n")
    assert generate.cell_problems("PASS 2.0e-03/1e-03 FAIL 1.0e-07/1e-06") == [
        "PASS 2.0e-03/1e-03", "FAIL 1.0e-07/1e-06"]
    assert generate.cell_problems("PASS 2.1e-07/1e-03 FAIL 3.2e-01/1e-06") == []


def test_ci_runs_the_front_page_test_command_verbatim() -> None:
    readme = (ROOT / "README.md").read_text().splitlines()
    command = next(line for line in readme if "pytest" in line and not line.startswith("#"))
    assert command in (ROOT / ".ci" / "run").read_text()
    assert re.search(r"mkdocs build --strict", (ROOT / ".ci" / "run").read_text())


def test_site_builds_strictly(tmp_path: Path) -> None:
    if importlib.util.find_spec("mkdocs") is None or importlib.util.find_spec("material") is None:
        pytest.skip("needs mkdocs and mkdocs-material (pip install -e '.[docs]')")
    proc = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "--quiet",
                           "--config-file", str(ROOT / "mkdocs.yml"),
                           "--site-dir", str(tmp_path / "site")],
                          capture_output=True, text=True, cwd=ROOT,
                          env={**generate.environment(), "NO_MKDOCS_2_WARNING": "1"})
    assert proc.returncode == 0, proc.stderr[-3000:]
    page = (tmp_path / "site" / "guide" / "own-code" / "index.html").read_text()
    assert "checked.reference" in page  # README's example, included into the guide
    assert "fonts.googleapis" not in page
