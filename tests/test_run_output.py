"""What ``gradparity run`` shows people: the brief default view (scoreboard, the cases that
did not pass, grouped reasons) within 100 columns on the whole catalog, in a log and on a
terminal; progress lines in a CI log; and the sample on docs/guide/running.md."""

from __future__ import annotations

import io
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import installed
from rich.console import Console
from rich.text import Text

from conformance.reports import terminal
from conformance.reports.progress import LogLines
from conformance.reports.read import read_report
from conformance.results import Report, Result, Status

TESTS = Path(__file__).parent
ROOT = TESTS.parent
PATH = os.pathsep.join([str(TESTS), str(ROOT), os.environ.get("PYTHONPATH", "")])
#: Every status a real run gives: autograd (PASS, UNSUPPORTED, CONVENTION), one 1 % off
#: (FAIL on every case: more than MAX_LISTED), one missing (SKIPPED), one gradient-only.
BACKENDS = ["autograd", "plugin_backends:Wrong", "plugin_backends:Missing",
            "plugin_backends:GradOnly"]


def gradparity(*args: str, env: dict[str, str] | None = None, cwd: Path | None = None
               ) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "conformance.cli", *args], capture_output=True,
                          text=True, cwd=cwd, env={**os.environ, "PYTHONPATH": PATH, **(env or {})})


@pytest.fixture(scope="module")
def catalog_run(backend, tmp_path_factory: pytest.TempPathFactory
                ) -> tuple[subprocess.CompletedProcess, Report]:
    """The whole default catalog on four backends, stdout a pipe and COLUMNS=100."""
    backend("autograd")
    path = tmp_path_factory.mktemp("catalog") / "r.json"
    proc = gradparity("run", *(a for b in BACKENDS for a in ("-b", b)), "--json", str(path),
                      env={"COLUMNS": "100"})
    assert proc.returncode == 1, proc.stdout[-3000:] + proc.stderr[-3000:]  # wrong FAILs
    return proc, read_report(path)


def test_the_brief_view_of_the_whole_catalog_fits_100_columns(catalog_run) -> None:
    proc, report = catalog_run
    lines = proc.stdout.splitlines()
    assert max(map(len, lines)) <= 100, max(lines, key=len)
    assert len(lines) < len({r.spec for r in report.results})  # not a row per spec
    board = lines[lines.index("") + 1:]
    assert board[0].split()[0] == "backend" and board[0].split()[-2:] == ["supported", "time"]
    assert [row.split()[0] for row in board[2:5]] == ["autograd", "wrong", "grad-only"]
    assert board[5] == ""
    assert "SKIPPED, not installed: missing: no_such_framework_xyz" in proc.stdout
    assert lines[-2] == terminal.summary(report)  # totals last, then the report's path
    # every case not shown by name is counted: FAILs beyond the limit, UNSUPPORTED by reason
    failed = sum(r.status is Status.FAIL and r.backend == "wrong" for r in report.results)
    assert failed > terminal.MAX_LISTED
    assert f"... and {failed - terminal.MAX_LISTED} more FAIL on wrong" in proc.stdout


def test_the_brief_view_on_a_terminal_fits_and_never_cuts_a_name(catalog_run) -> None:
    _, report = catalog_run
    out = io.StringIO()
    terminal.show(report, Console(file=out, force_terminal=True, width=100, highlight=False))
    lines = Text.from_ansi(out.getvalue()).plain.splitlines()
    assert max(map(len, lines)) <= 100, max(lines, key=len)
    shown = "\n".join(lines)
    assert "\u2026" not in shown  # no name squeezed to 'seed00…'
    listed = re.findall(r"^FAIL (\S+) on wrong", shown, re.M)
    assert len(listed) == terminal.MAX_LISTED
    assert set(listed) <= {r.spec for r in report.results}


def test_the_full_table_keeps_every_name_and_cell(catalog_run) -> None:
    _, report = catalog_run
    out = io.StringIO()
    terminal.show(report, Console(file=out, force_terminal=True, width=100, highlight=False),
                  full=True)
    lines = Text.from_ansi(out.getvalue()).plain.splitlines()
    rows = {line.split()[0]: line.split()[1:] for line in lines if line.startswith("  ")
            and len(line.split()) > 1}
    for r in report.results:
        assert r.spec in rows, r.spec  # whole, so float32 and float64 rows stay apart
    assert any(row[0] == "PASS" for row in rows.values())


def test_unsupported_reasons_are_grouped_with_the_words_they_vary_in() -> None:
    def case(spec: str, backend: str, message: str) -> Result:
        return Result(spec, backend, Status.UNSUPPORTED, "grad", "float64", message=message)

    ops = ["cumprod", "take_along_axis", "cumprod", "sort", "diff"]
    report = Report([case(f"op-{op}-{i}", "autograd",
                          f"NotImplementedError: VJP of {op} wrt argnums (0,) not defined")
                     for i, op in enumerate(ops)]
                    + [case(f"m-{i}", "keras-jax", "keras-jax checks Keras 3 models")
                       for i in range(40)]
                    + [case("odd", "autograd", "AssertionError: padding")])
    lines = terminal.grouped(report, Status.UNSUPPORTED)
    assert lines == [
        "autograd: 5 UNSUPPORTED, NotImplementedError: VJP of ... wrt argnums (0,) not defined: "
        "cumprod, take_along_axis, sort, diff",
        "autograd: 1 UNSUPPORTED, AssertionError: padding (odd)",
        "keras-jax: 40 UNSUPPORTED, keras-jax checks Keras 3 models"]


def test_a_reason_shared_by_many_errors_is_one_line() -> None:
    message = "not run: the backend timed out twice in a row"
    report = Report([Result(f"case-{i}", "slow", Status.ERROR, "grad", "float64",
                            message=message) for i in range(30)]
                    + [Result("lone", "slow", Status.ERROR, "grad", "float64", message="boom")])
    assert [text for _, text in terminal.problems(report)] == [
        f"slow: 30 ERROR, {message}: " + ", ".join(f"case-{i}" for i in range(8))
        + ", ... (22 more)",
        "ERROR lone on slow: boom"]


def test_progress_lines_name_finished_backends_and_where_the_run_is(catalog_run) -> None:
    proc, report = catalog_run
    cases = len({r.spec for r in report.results})
    finished = [line for line in proc.stderr.splitlines() if " finished its " in line]
    assert sorted(line.split()[1] for line in finished) == ["autograd", "grad-only", "wrong"]
    assert all(f"finished its {cases} cases after " in line for line in finished)
    assert finished[-1].endswith(f"; {3 * cases}/{3 * cases} cases done")
    lines = LogLines([object()] * 4, [_named("a"), _named("b"), _named("c")], io.StringIO())
    for _ in range(4):
        lines.outcome(None, _named("a"), None)
    lines.outcome(None, _named("b"), None)
    assert lines.heartbeat().startswith("5/12 cases done after ")
    assert lines.heartbeat().endswith("; running: b 1/4; 1 backend without an answer yet")
    assert lines.stream.getvalue().startswith("gradparity: a finished its 4 cases after ")


def _named(name: str):
    from backends.base import Backend

    return type(name, (Backend,), {"name": name})()


# -- the documented sample -----------------------------------------------------------------

DOCS = ROOT / "docs" / "guide" / "running.md"


def _shape(text: str) -> list[str]:
    """A brief view's words, with every figure (counts, errors, times) replaced by ``#``:
    what a sample keeps across machines (wrapping and alignment follow the figures)."""
    text = re.sub(r"(\d+ min )?\d+(\.\d+)? s\b", "#s", text)  # a time
    return re.sub(r"(?<![\w.])-?\d+(\.\d+)?(e[+-]?\d+)?(?!\w)", "#", text).split()


def test_the_documented_sample_is_what_a_run_prints(backend) -> None:
    for name in ("jax", "autograd"):
        backend(name)
    if installed("theano"):
        pytest.skip("the sample shows theano not installed (it has its own environment)")
    found = re.search(r"<!-- runout-sample: brief -->\s*```\n(.*?)```", DOCS.read_text(), re.S)
    assert found, "docs/guide/running.md has no sample marked runout-sample: brief"
    shown = found.group(1)
    command = shown.splitlines()[0].removeprefix("$ gradparity ").replace("'", "").split()
    proc = gradparity(*command, env={"COLUMNS": "100"})
    assert proc.returncode in (0, 1, 4), proc.stderr[-2000:]
    body = proc.stdout.split("\n\n", 1)[1]  # after the header (versions: this machine's)
    sample = shown.split("\n\n", 1)[1]
    assert _shape(body) == _shape(sample), body


def test_a_scoreboard_too_wide_for_the_width_becomes_one_sentence_per_backend() -> None:
    statuses = list(Status)
    report = Report([Result(f"s{i}", "some-backend", status, "grad", "float64", seconds=0.5)
                     for i, status in enumerate(statuses)], complete=False)
    table = terminal.scoreboard(report, 200)
    assert table[0].split() == ["backend", *(s.value for s in statuses), "supported", "time"]
    assert table[2].split()[:-2] == ["some-backend", *["1"] * len(statuses), "6/7"]
    narrow = terminal.scoreboard(report, 60)
    assert max(map(len, narrow)) <= 60
    assert " ".join(narrow).replace("\n", " ").startswith("some-backend: 6/7 supported, 4.0 s:")
