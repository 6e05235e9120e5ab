"""Reports people read: the terminal table, JUnit XML for CI, and the HTML scoreboard page.

A real run gives PASS, FAIL, ERROR, UNSUPPORTED and SKIPPED rows; CONVENTION and NOT_RUN
come from results built here, so every status is seen in every report. In none of them is
a case that was not computed counted or coloured as passed.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from html.parser import HTMLParser
from pathlib import Path

import pytest

from conformance.reports.html import COLOURS, write_html
from conformance.reports.junit import ELEMENTS, write_junit
from conformance.reports.plots import FAIL_ZONE
from conformance.results import Report, Result, Status, Worst

TESTS = Path(__file__).parent
#: The real run's backends: autograd and planted ones (FAIL, SKIPPED, UNSUPPORTED, ERROR).
BACKENDS = ["autograd", "plugin_backends:Wrong", "plugin_backends:Missing",
            "plugin_backends:GradOnly", "planted_faults:Raise"]
SPECS = ["polynomial-float64", "logsumexp-float64", "mlp-jvp-float64"]


def gradparity(*args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(
        filter(None, [str(TESTS), os.environ.get("PYTHONPATH")]))}
    return subprocess.run([sys.executable, "-m", "conformance.cli", *args],
                          capture_output=True, text=True, env=env)


@pytest.fixture(scope="module")
def real_run(backend, tmp_path_factory: pytest.TempPathFactory
             ) -> tuple[Path, subprocess.CompletedProcess]:
    """One ``gradparity run`` writing all three reports (stdout is a pipe, not a terminal)."""
    backend("autograd")
    out = tmp_path_factory.mktemp("reports")
    args = [a for b in BACKENDS for a in ("-b", b)] + [a for s in SPECS for a in ("-s", s)]
    proc = gradparity("run", *args, "--json", str(out / "r.json"), "--junit",
                      str(out / "r.xml"), "--html", str(out / "r.html"))
    assert proc.returncode == 1, proc.stdout + proc.stderr  # a FAIL and an ERROR
    return out, proc


def test_table_is_plain_text_off_a_terminal(real_run) -> None:
    _, proc = real_run
    assert "\x1b[" not in proc.stdout
    assert "FAIL polynomial-float64 on wrong: " in proc.stdout
    assert "SKIPPED, not installed: missing: no_such_framework_xyz" in proc.stdout


def test_color_always_colours_the_table(backend) -> None:
    backend("autograd")
    proc = gradparity("run", "-b", "autograd", "-s", "polynomial-float64", "--color", "always")
    assert proc.returncode == 0, proc.stderr
    assert "\x1b[32m1 PASS" in proc.stdout  # green totals
    full = gradparity("run", "-b", "autograd", "-s", "polynomial-float64", "--color", "always",
                      "--table", "full")
    assert "\x1b[32mPASS" in full.stdout  # a green cell


def test_junit_has_one_testcase_per_result(real_run) -> None:
    out, _ = real_run
    results = json.loads((out / "r.json").read_text())["results"]
    root = ET.parse(out / "r.xml").getroot()
    cases = {(c.get("classname"), c.get("name")): c for c in root.iter("testcase")}
    assert len(cases) == len(list(root.iter("testcase"))) == len(results) == 15
    for row in results:
        case = cases[(f"gradparity.{row['backend']}", row["spec"])]
        children = [child.tag for child in case if child.tag != "properties"]
        expected = ELEMENTS.get(Status(row["status"]))
        assert children == ([expected] if expected else []), (
            f"{row['spec']} on {row['backend']} is {row['status']}: expected "
            f"{expected or 'no child element'}, got {children}")
    statuses = [r["status"] for r in results]
    assert {s: statuses.count(s) for s in set(statuses)} == {
        "PASS": 7, "FAIL": 3, "ERROR": 1, "UNSUPPORTED": 1, "SKIPPED": 3}
    assert (root.get("tests"), root.get("failures"), root.get("errors"), root.get("skipped")) \
        == ("15", "3", "1", "4")
    missing = next(s for s in root.iter("testsuite") if s.get("name") == "gradparity[missing]")
    assert (missing.get("tests"), missing.get("skipped")) == ("3", "3")


class _Cells(HTMLParser):
    """The grid's status cells and every external reference of a page."""

    def __init__(self) -> None:
        super().__init__()
        self.statuses: list[str] = []
        self.external: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        classes = (found.get("class") or "").split()
        if tag == "td" and "cell" in classes and len(classes) == 2:
            self.statuses.append(classes[1].upper())
        self.external += [v for k, v in attrs if k in ("src", "href") and v]


def test_html_page_is_self_contained_with_a_cell_per_result(real_run) -> None:
    out, _ = real_run
    results = json.loads((out / "r.json").read_text())["results"]
    cells = _Cells()
    text = (out / "r.html").read_text()
    cells.feed(text)
    assert cells.external == []
    assert "http:" not in text and "https:" not in text and "<script" not in text
    assert sorted(cells.statuses) == sorted(r["status"] for r in results)


def every_status() -> Report:
    """A report with one result of each status, as the harness would fill it."""
    tol = {"rtol": 1e-06, "floor": 1e-09, "allowed": 1e-06}
    numbers = {"max_abs_error": 1e-12, "max_rel_error": 2.9e-13, "tolerance": tol}
    return Report(complete=False, environment={}, results=[
        Result("polynomial-float64", "jax", Status.PASS, "grad", "float64", **numbers),
        Result("relu-at-kink", "jax", Status.CONVENTION, "grad", "float64", **numbers,
               message="differs from autograd only at the kink x = 0"),
        Result("seed001-output-wrt-input", "tf-graph", Status.FAIL, "grad", "float64",
               diagnoses=["stale-session"], max_abs_error=3.2, max_rel_error=1.3,
               tolerance=tol, worst=Worst("x", [0, 0], 0.8, -2.4, 3.2, 2.4e-6),
               message="x[0, 0]: got 0.8, reference -2.4"),
        Result("seed004-two-input-grad", "tf-eager", Status.ERROR, "grad", "float64",
               message="RuntimeError: tf.gradients is not supported\x01 when eager"),
        Result("rosenbrock-hvp", "grad-only", Status.UNSUPPORTED, "hvp", "float64",
               message="grad-only does not compute kind 'hvp'"),
        Result("polynomial-float64", "torch", Status.SKIPPED, "grad", "float64",
               message="not installed: torch"),
        Result("mlp-vjp-float64", "autograd", Status.NOT_RUN, "vjp", "float64"),
    ])


def test_junit_maps_every_status_and_survives_control_characters(tmp_path) -> None:
    write_junit(every_status(), tmp_path / "all.xml")
    root = ET.parse(tmp_path / "all.xml").getroot()
    children = {case.get("classname").split(".", 1)[1]: [c.tag for c in case
                                                          if c.tag != "properties"]
                for case in root.iter("testcase")}
    assert children == {"jax": [], "tf-graph": ["failure"], "tf-eager": ["error"],
                        "grad-only": ["skipped"], "torch": ["skipped"], "autograd": ["skipped"]}
    failure = next(root.iter("failure"))
    assert "diagnosis stale-session" in failure.text and "worst element: x[0, 0]" in failure.text


def test_html_page_in_headless_chromium_shows_every_status_and_the_plots(tmp_path) -> None:
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        pytest.skip("needs Debian's chromium package (apt-get install -y chromium)")
    image = pytest.importorskip("PIL.Image", reason="needs pillow (pip install pillow)")
    page, shot = tmp_path / "scoreboard.html", tmp_path / "scoreboard.png"
    write_html(every_status(), page)
    proc = subprocess.run(
        [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
         "--no-first-run", "--disable-background-networking", "--disable-component-update",
         "--disable-sync", f"--user-data-dir={tmp_path / 'profile'}",
         f"--screenshot={shot}", "--window-size=1400,1800", page.as_uri()],
        capture_output=True, text=True, timeout=120)
    assert shot.is_file(), f"chromium wrote no screenshot (exit {proc.returncode}): {proc.stderr}"
    with image.open(shot) as png:
        pixels = {"#{:02x}{:02x}{:02x}".format(*rgb): n
                  for n, rgb in png.convert("RGB").getcolors(1 << 24)}
    for status, (background, _) in COLOURS.items():  # the cell, its legend chip, its count
        assert pixels.get(background, 0) >= 200, (
            f"{status.value}'s colour {background} covers {pixels.get(background, 0)} pixels "
            "of the screenshot, expected a visible cell (>= 200)")
    # the plots of jax (PASS, CONVENTION) and tf-graph (FAIL): each's zone above the line
    assert pixels.get(FAIL_ZONE, 0) >= 2 * 800 * 10, "the plots' FAIL zones are not drawn"


@pytest.mark.parametrize("umask", [0o022, 0o077, 0o027])
def test_reports_are_created_with_the_users_umask(tmp_path, umask) -> None:
    """Not the 0600 of a temporary file: CI artifact uploaders must be able to read them."""
    from conformance.reports.json import write_json

    previous = os.umask(umask)
    try:
        for write, name in ((write_json, "r.json"), (write_junit, "r.xml"),
                            (write_html, "r.html")):
            write(every_status(), tmp_path / name)
            assert (tmp_path / name).stat().st_mode & 0o777 == 0o666 & ~umask, name
    finally:
        os.umask(previous)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r.html", "r.json", "r.xml"]


def test_the_terminal_shows_three_reproduce_snippets_and_counts_the_rest() -> None:
    from conformance.reports.terminal import MAX_SNIPPETS, table

    report = Report([Result(f"case-{i}", "jax", Status.FAIL, "grad", "float64",
                            message=f"x[0]: off {i}", reproduce=f"# gradparity reproduce: {i}")
                     for i in range(7)])
    text = table(report)
    assert MAX_SNIPPETS == 3
    assert text.count("python - <<'EOF'") == 3 and text.count("FAIL case-") == 7
    assert text.count("  reproduce (the JSON report's \"reproduce\" field, as a shell "
                      "command):") == 3
    assert "... and 4 more reproduce snippets in the JSON report (field \"reproduce\")" in text
    report.results[3:] = []  # three or fewer: all shown, no count
    shorter = table(report)
    assert shorter.count("python - <<'EOF'") == 3 and "more reproduce" not in shorter
