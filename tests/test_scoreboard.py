"""docs/scoreboard.py: the version matrix's scoreboard and findings pages, written from the
merged report alone. The committed pages must be what the committed report gives; a verdict
or a convention answer that differs between two releases must show as a framework change
with the line that reproduces it (reports from real runs, edited to hold such changes)."""

from __future__ import annotations

import configparser
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import docs_script

ROOT = Path(__file__).resolve().parent.parent
DATA = Path(__file__).parent / "data"
THEANO = ROOT / "docs" / "data" / "conventions-theano.json"
scoreboard = docs_script("scoreboard")


def run(*args: str | Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(ROOT / "docs" / "scoreboard.py"),
                           *map(str, args)], capture_output=True, text=True, cwd=ROOT)


def copy(source: Path, target: Path, versions: dict | None = None, **changes: dict) -> None:
    """``source`` written to ``target`` with ``changes`` on the named specs' results and,
    given ``versions``, the backend's framework versions replaced."""
    data = json.loads(source.read_text())
    for row in data["results"]:
        row.update(changes.get(row["spec"], {}))
    if versions:
        for info in data["environment"]["backends"].values():
            info["versions"] = versions
    target.write_text(json.dumps(data))


def pages(tmp_path: Path, reports: Path) -> dict[str, str]:
    out = tmp_path / "out"
    out.mkdir()
    proc = run("--reports", reports, "--merged", tmp_path / "merged.json", "--out", out)
    assert proc.returncode == 0, proc.stderr
    return {name: (out / name).read_text() for name in scoreboard.PAGES}


def section(page: str, title: str) -> str:
    return page.split(f"## {title}\n", 1)[1].split("\n## ", 1)[0]


def test_committed_pages_are_what_the_committed_report_gives(tmp_path) -> None:
    proc = run("--out", tmp_path)
    assert proc.returncode == 0, proc.stderr
    for name in scoreboard.PAGES:
        assert (tmp_path / name).read_text() == (ROOT / "docs" / name).read_text(), (
            f"docs/{name} is stale: run python docs/scoreboard.py")
    assert run("--check").returncode == 0


def test_check_names_a_stale_page(tmp_path) -> None:
    for name in scoreboard.PAGES:
        (tmp_path / name).write_text("# edited by hand\n")
    proc = run("--check", "--out", tmp_path)
    assert proc.returncode == 1
    assert "scoreboard.md is not what" in proc.stderr and "findings.md" in proc.stderr


def test_a_verdict_that_changed_between_releases_is_a_framework_change(tmp_path) -> None:
    reports = tmp_path / "matrix"
    reports.mkdir()
    copy(DATA / "jax-0.4.30.json", reports / "matrix-jax0430.json")
    copy(DATA / "jax-0.10.2.json", reports / "matrix-jaxlatest.json",
         **{"logsumexp-float64": {"status": "FAIL", "diagnoses": ["kink"],
                            "message": "x: 1 element off"}})
    board, findings = pages(tmp_path, reports).values()
    changed = section(board, "Framework changes between versions")
    assert "### jax: 0.4.30 -> 0.10.2" in changed and "1 framework change:" in changed
    assert ("| `logsumexp-float64` | PASS | FAIL [kink] | "
            "`tox -e matrix-jax0430,matrix-jaxlatest -- -s logsumexp-float64` |") in changed
    assert changed.count("\n| `") == 1  # only the edited case
    row = next(line for line in board.splitlines() if "`matrix-jaxlatest`" in line)
    assert "| 17 | 1 |" in row  # PASS, FAIL counts of that column
    wrong = section(findings, "Wrong derivatives")
    assert "| `logsumexp-float64` | jax | FAIL [kink] | jax 0.10.2 | 0.4.30 |" in wrong
    assert "pip install jax==0.10.2 jaxlib==0.10.2 numpy==2.4.6 && gradparity run -b jax" in wrong
    assert "`logsumexp-float64`" in section(findings, "Derivatives that changed between releases")


def test_a_convention_answer_that_changed_and_a_nan_are_findings(tmp_path) -> None:
    reports = tmp_path / "matrix"
    reports.mkdir()
    # Theano's real conventions report (added to every merge) and a made-up next release
    # whose relu at 0 answers NaN
    copy(THEANO, reports / "matrix-theano106.json", versions={"theano": "1.0.6"},
         **{"convention-relu-maximum-at-0": {"convention_values": {"x": ["nan"]},
                                             "message": "nan"}})
    board, findings = pages(tmp_path, reports).values()
    changed = section(board, "Framework changes between versions")
    assert "### theano: 1.0.5 -> 1.0.6" in changed
    assert "| `convention-relu-maximum-at-0` | CONVENTION: 1 | CONVENTION: nan |" in changed
    assert changed.count("\n| `") == 1
    nan = section(findings, "NaN or infinity where others give a number")
    assert "| `convention-relu-maximum-at-0` | theano 1.0.6 | nan | theano 1.0.5 |" in nan
    differ = section(findings, "Conventions that differ")
    assert "1: theano 1.0.5<br>nan: theano 1.0.6" in differ


def test_version_order_is_numeric() -> None:
    assert scoreboard.version_key("0.10.2") > scoreboard.version_key("0.4.30")
    assert scoreboard.version_key("2.16.1") < scoreboard.version_key("2.21.0rc1")


def test_missing_reports_are_one_line(tmp_path) -> None:
    proc = run("--reports", tmp_path / "nowhere", "--merged", tmp_path / "m.json")
    assert proc.returncode != 0
    assert proc.stderr.strip().count("\n") == 0 and "--reports" in proc.stderr
    assert "tox -m matrix" in proc.stderr


def test_every_floor_of_an_extra_is_pinned_by_a_matrix_env() -> None:
    """The oldest supported releases (pyproject.toml's extras) are the ones the matrix runs,
    and the docs' table lists exactly the matrix's envs."""
    tomllib = pytest.importorskip("tomllib", reason="tomllib is in Python's library from 3.11")
    extras = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"][
        "optional-dependencies"]
    tox = configparser.ConfigParser(interpolation=None)
    tox.read(ROOT / "tox.ini")
    section = next(s for s in tox.sections() if s.startswith("testenv:matrix-{"))
    factors = section.split("{", 1)[1].rstrip("}").split(",")
    pinned = {p.split("==")[0]: p.split("==")[1] for p in re.findall(
        r"^\s*\w+: ([\w-]+==[\w.]+)$", tox[section]["deps"], re.M)}
    assert pinned, "no pinned oldest release in the matrix envs"
    for extra in ("jax", "autograd", "tf", "pytensor"):
        for requirement in extras[extra]:
            name, floor = requirement.split(">=")
            assert pinned.get(name, "").startswith(floor), (
                f"extra {extra}: {requirement}, but the matrix pins {name}=={pinned.get(name)}")
            assert f"{extra}latest" in factors
    table = (ROOT / "docs" / "guide" / "matrix.md").read_text()
    assert set(re.findall(r"^\| `matrix-(\w+)` \| [^|]*\| [^|]*\|$", table, re.M)) \
        == set(factors)


def test_a_none_answer_is_an_answer_of_its_own_not_a_nan(tmp_path) -> None:
    """The conventions matrix records ``None`` where a framework's API gives no gradient
    (TF's floor): a change to None is a framework change, and None is not a NaN finding."""
    reports = tmp_path / "matrix"
    reports.mkdir()
    copy(THEANO, reports / "matrix-theano106.json", versions={"theano": "1.0.6"},
         **{"convention-relu-maximum-at-0": {"convention_values": {"x": [None]},
                                             "message": "None"}})
    board, findings = pages(tmp_path, reports).values()
    changed = section(board, "Framework changes between versions")
    assert "| `convention-relu-maximum-at-0` | CONVENTION: 1 | CONVENTION: None |" in changed
    nan = section(findings, "NaN or infinity where others give a number")
    assert "theano 1.0.6" not in nan
