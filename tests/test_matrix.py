"""``gradparity merge`` and ``gradparity diff`` on reports from two real environments (jax
0.4.30 and 0.10.2, made by tests/data/make_jax_reports.sh) and on reports edited to
hold a conflict or a regression."""

from __future__ import annotations

import copy
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conformance.reports import merge
from conformance.reports.diff import diff, growth, text
from conformance.reports.read import read_report
from conformance.results import Result, Status

DATA = Path(__file__).parent / "data"
MERGE_DIFF = Path(__file__).resolve().parent.parent / "docs" / "guide" / "merge-diff.md"
OLD, NEW = DATA / "jax-0.4.30.json", DATA / "jax-0.10.2.json"


def gradparity(*args: str | Path, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "conformance.cli", *map(str, args)],
                          capture_output=True, text=True, cwd=cwd)


def docs_sample(marker: str) -> str:
    """The first line of the docs' code block right after ``<!-- sample: marker -->``."""
    found = re.search(rf"<!-- sample: {marker} -->\s*```\w*\n(.*?)```", MERGE_DIFF.read_text(),
                      re.S)
    assert found, f"{MERGE_DIFF.name} has no sample marked {marker!r}"
    return next(line for line in found.group(1).splitlines() if line.strip())


def edited(tmp_path: Path, name: str, source: Path = NEW, **changes: dict) -> Path:
    """A copy of ``source`` whose results for the named specs get ``changes``' fields."""
    data = json.loads(source.read_text())
    for row in data["results"]:
        row.update(changes.get(row["spec"], {}))
    path = tmp_path / name
    path.write_text(json.dumps(data))
    return path


def test_real_reports_merge_into_one_column_per_jax_version(tmp_path) -> None:
    proc = gradparity("merge", OLD, NEW, "--json", tmp_path / "m.json",
                      "--html", tmp_path / "m.html")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "[1] jax: jax 0.4.30, jaxlib 0.4.30" in proc.stdout
    assert "[2] jax: jax 0.10.2, jaxlib 0.10.2" in proc.stdout
    header = next(line for line in proc.stdout.splitlines() if line.startswith("spec "))
    assert header.split() == ["spec", "jax", "[1]", "jax", "[2]"]
    assert "36 PASS; 0 conflicts; 2 columns from 2 reports" in proc.stdout
    data = json.loads((tmp_path / "m.json").read_text())
    assert [c["versions"]["jax"] for c in data["columns"]] == ["0.4.30", "0.10.2"]
    assert [c["numpy"] for c in data["columns"]] == ["2.0.2", "2.4.6"]
    assert len(data["results"]) == 36 and data["conflicts"] == [] and data["ok"] is True
    assert set(data) == {"merge_schema_version", "ok", "incomplete", "columns", "results",
                         "conflicts"}  # as the docs show
    assert set(data["columns"][0]) == {"column", "backend", "versions", "numerics", "python",
                                       "numpy", "platform", "reports"}
    assert {r["report"] for r in data["results"] if r["column"] == 1} == {str(OLD)}
    page = (tmp_path / "m.html").read_text()
    assert page.count('<td class="cell pass"') == 36 and "jax [2]" in page
    assert "http" not in page.replace('charset="utf-8"', "")


def test_real_reports_diff_names_the_upgrade_and_no_regression() -> None:
    proc = gradparity("diff", OLD, NEW)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "jax versions jax: 0.4.30 -> 0.10.2" in proc.stdout
    assert "numpy: 2.0.2 -> 2.4.6" in proc.stdout
    assert proc.stdout.strip().splitlines()[-1] == "no regression; 3 environment changes"


def test_disagreeing_verdicts_of_one_environment_are_a_conflict(tmp_path) -> None:
    shutil.copy(NEW, tmp_path / "a.json")
    edited(tmp_path, "b.json", **{"logsumexp-float64": {
        "status": "FAIL", "diagnoses": ["nondeterministic"], "max_rel_error": 0.3}})
    proc = gradparity("merge", "a.json", "b.json", "--json", "m.json", "--html", "m.html",
                      cwd=tmp_path)
    assert proc.returncode == 1
    row = next(line for line in proc.stdout.splitlines() if line.startswith("logsumexp-float64"))
    assert row.split()[1:] == ["CONFLICT", "PASS|FAIL[nondeterministic]"]
    assert docs_sample("merge-conflict") in proc.stdout.splitlines()  # as the docs show
    data = json.loads((tmp_path / "m.json").read_text())
    conflicts = data["conflicts"]
    assert [(c["spec"], [v["status"] for v in c["verdicts"]]) for c in conflicts] == [
        ("logsumexp-float64", ["PASS", "FAIL"])]
    agreeing = next(line for line in proc.stdout.splitlines() if line.startswith("mlp-jvp-float64"))
    assert agreeing.split() == ["mlp-jvp-float64", "PASS", "9.5e-16/1e-06"]  # one verdict shown
    assert 'class="cell fail conflict"' in (tmp_path / "m.html").read_text()


def test_same_versions_on_another_machine_disagreeing_are_flagged_in_both_columns(
        tmp_path) -> None:
    error = {"status": "ERROR", "message": "boom", "max_rel_error": None}
    other = edited(tmp_path, "arm.json", **{"polynomial-float32": error})
    data = json.loads(other.read_text())
    data["environment"]["platform"] = "macOS-15-arm64"
    other.write_text(json.dumps(data))
    board = merge.merge([(str(p), read_report(p)) for p in (NEW, other)])
    assert [c.platform for c in board.columns][1] == "macOS-15-arm64"
    cells = dict(board.rows)["polynomial-float32"]
    assert [c.text() for c in cells] == ["PASS 3.1e-07/1e-03 !", "ERROR !"]
    assert len(board.conflicts()) == 1 and not board.ok
    assert all(not c.conflict for c in dict(board.rows)["polynomial-float64"])


def test_same_spec_under_different_versions_is_no_conflict(tmp_path) -> None:
    failing = edited(tmp_path, "new.json", **{"logsumexp-float64": {"status": "FAIL"}})
    board = merge.merge([(str(p), read_report(p)) for p in (OLD, failing)])
    assert board.conflicts() == [] and not board.ok  # a FAIL, not a conflict
    assert [c.text() for c in dict(board.rows)["logsumexp-float64"]] == [
        "PASS 1.7e-16/1e-06", "FAIL 3.5e-16/1e-06"]


def test_diff_exits_1_on_a_new_failure_and_a_new_diagnosis(tmp_path) -> None:
    worse = edited(tmp_path, "worse.json", **{
        "logsumexp-float64": {"status": "ERROR", "message": "boom", "max_rel_error": None},
        "polynomial-float32": {"status": "FAIL", "diagnoses": ["kink"]}})
    proc = gradparity("diff", NEW, worse)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    lines = proc.stdout.splitlines()
    start = lines.index("regressions (newly FAIL or ERROR, or a new diagnosis):")
    assert lines[start + 1:start + 3] == [
        "  polynomial-float32 on jax: PASS 3.1e-07 -> FAIL [kink] 3.1e-07",
        "  logsumexp-float64 on jax: PASS 3.5e-16 -> ERROR"]
    assert lines[-1] == "2 regressions"
    again = edited(tmp_path, "again.json", source=worse, **{
        "polynomial-float32": {"diagnoses": ["kink", "nondeterministic"]}})
    found = diff(read_report(worse), read_report(again))
    assert [c.text for c in found.regressions] == [
        "FAIL [kink] 3.1e-07 -> FAIL [kink,nondeterministic] 3.1e-07"]


def test_grown_error_still_passing_is_shown_but_not_a_regression(tmp_path) -> None:
    was = read_report(NEW).results[6]
    assert was.spec == "logsumexp-float64"
    grown = edited(tmp_path, "grown.json", **{was.spec: {"max_rel_error": was.max_rel_error * 1e3}})
    proc = gradparity("diff", NEW, grown)
    assert proc.returncode == 0
    assert "  logsumexp-float64 on jax: max_rel_error from 3.5e-16 to 3.5e-13, PASS" \
        in proc.stdout
    assert proc.stdout.strip().splitlines()[-1] == "no regression; 1 error grown >10x"


def test_diff_lists_cases_added_and_removed_and_fixed(tmp_path) -> None:
    data = json.loads(NEW.read_text())
    fewer = copy.deepcopy(data)
    fewer["results"] = [r for r in data["results"] if r["spec"] != "mlp-jvp-float64"]
    fewer["results"][0]["status"] = "FAIL"
    (tmp_path / "fewer.json").write_text(json.dumps(fewer))
    found = diff(read_report(tmp_path / "fewer.json"), read_report(NEW))
    assert [str(c) for c in found.added] == ["mlp-jvp-float64 on jax: PASS 9.5e-16"]
    assert [str(c) for c in found.status_changes] == [
        "polynomial-float64 on jax: FAIL 8.2e-16 -> PASS 8.2e-16"]
    assert found.regressions == []
    back = diff(read_report(NEW), read_report(tmp_path / "fewer.json"))
    assert [c.spec for c in back.removed] == ["mlp-jvp-float64"]
    assert "cases removed:\n  mlp-jvp-float64 on jax: PASS 9.5e-16" in text(back, "a", "b")


def test_errors_below_machine_epsilon_do_not_grow() -> None:
    def result(error: float, dtype: str = "float64") -> Result:
        return Result("s", "b", Status.PASS, dtype=dtype, max_rel_error=error)

    assert growth(result(0.0), result(2e-16)) == pytest.approx(1.0, rel=0.2)
    assert growth(result(0.0), result(1e-13)) > 10
    assert growth(result(1e-8, "float32"), result(1e-6, "float32")) < 10  # eps32 = 1.2e-7
    assert growth(result(1e-7), Result("s", "b", Status.ERROR)) is None


@pytest.mark.parametrize(("content", "message"), [
    (None, "no such file"),
    ("{not json", "not JSON"),
    ("[1, 2]", "not a gradparity report (no schema_version)"),
    ('{"schema_version": 2, "results": []}', "schema_version 2, but this gradparity reads 1"),
    ('{"schema_version": 1, "results": {}}', "'results' is not a list"),
    ('{"schema_version": 1, "results": [{"spec": "s", "backend": "b", "status": "MAYBE"}]}',
     "results[0].status: 'MAYBE' is not one of PASS"),
    ('{"schema_version": 1, "results": [{"spec": "s", "backend": "b", "status": "PASS", '
     '"max_rel_error": "big"}]}', "results[0].max_rel_error: 'big' is not a number"),
    ('{"merge_schema_version": 1, "results": []}', "not a gradparity report"),
])
@pytest.mark.parametrize("command", ["merge", "diff"])
def test_bad_report_is_one_line_and_exit_2(tmp_path, command, content, message) -> None:
    bad = tmp_path / "bad.json"
    if content is not None:
        bad.write_text(content)
    proc = gradparity(command, NEW, bad)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert proc.stderr.startswith(f"gradparity: error: {bad}: ") and message in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1 and not proc.stdout


def test_report_round_trips_through_the_reader() -> None:
    report = read_report(NEW)
    assert [r.to_json() for r in report.results] == json.loads(NEW.read_text())["results"]
    assert report.complete and report.environment["backends"]["jax"]["versions"]["jax"]


def test_a_regression_whose_error_grew_is_listed_once(tmp_path) -> None:
    was = read_report(NEW).results[6]
    worse = edited(tmp_path, "worse.json", **{was.spec: {
        "status": "FAIL", "max_rel_error": 2e-7 / 3.5e-16 * was.max_rel_error}})
    proc = gradparity("diff", NEW, worse)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert proc.stdout.count(f"{was.spec} on jax") == 1, proc.stdout
    assert proc.stdout.strip().splitlines()[-1] == "1 regression"
    found = diff(read_report(NEW), read_report(worse))
    assert [c.spec for c in found.regressions] == [was.spec] and found.grown == []
