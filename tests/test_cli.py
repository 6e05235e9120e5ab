"""The gradparity command end to end: exit codes, table, JSON report, and errors."""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
from pathlib import Path

import pytest

#: The test helpers' folder and the project: plug-ins such as ``plugin_backends:Missing``.
PATH = os.pathsep.join([str(Path(__file__).parent), str(Path(__file__).parent.parent),
                        os.environ.get("PYTHONPATH", "")])


def gradparity(*args: str, cwd=None, **popen) -> subprocess.CompletedProcess:
    popen.setdefault("env", {**os.environ, "PYTHONPATH": PATH})
    return subprocess.run([sys.executable, "-m", "conformance.cli", *args],
                          capture_output=True, text=True, cwd=cwd, **popen)


def one_line_usage_error(proc: subprocess.CompletedProcess, message: str) -> None:
    """Exit 2, ``message`` on one stderr line, no traceback, and no work done (no table)."""
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert message in proc.stderr and "Traceback" not in proc.stderr, proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1, proc.stderr
    assert proc.stdout == ""


def test_run_writes_table_and_json(backend, tmp_path) -> None:
    backend("autograd")
    report_path = tmp_path / "report.json"
    proc = gradparity("run", "-b", "autograd", "-s", "polynomial-*", "-s", "mlp-vjp-float32",
                      "--json", str(report_path))
    assert proc.returncode == 0, proc.stderr
    board = proc.stdout.split("\n\n")[1].splitlines()  # the scoreboard, after the header
    assert board[0].split() == ["backend", "PASS", "supported", "time"]
    assert board[2].split()[:3] == ["autograd", "3", "3/3"]
    assert proc.stdout.splitlines()[-2:] == ["3 PASS", f"JSON report: {report_path}"]
    assert "autograd: autograd 1." in proc.stdout.split("\n\n")[0]  # the header: versions
    data = json.loads(report_path.read_text())
    assert data["schema_version"] == 1 and data["complete"] is True
    rows = data["results"]
    assert {r["spec"] for r in rows} == {"polynomial-float64", "polynomial-float32",
                                         "mlp-vjp-float32"}
    for row in rows:
        assert row["backend"] == "autograd" and row["status"] == "PASS"
        assert row["diagnoses"] == []
        assert 0 <= row["max_rel_error"] <= row["tolerance"]["allowed"]
        assert row["max_abs_error"] >= 0
    assert data["environment"]["backends"]["autograd"]["versions"]["autograd"]


def test_run_exits_1_when_a_backend_fails(backend, tmp_path) -> None:
    backend("autograd")
    plugin = tmp_path / "wrong_backend.py"
    plugin.write_text(
        "from backends import FunctionBackend, load\n"
        "inner = load('autograd')\n"
        "def compute(spec, arrays):\n"
        "    out = inner.prepare(spec)(arrays)\n"
        "    return {k: v if k == 'value' else v * 1.01 for k, v in out.items()}\n"
        "Wrong = FunctionBackend('wrong', compute)\n")
    proc = subprocess.run([sys.executable, "-m", "conformance.cli", "run", "-b",
                           "wrong_backend:Wrong", "-s", "polynomial-float64"],
                          capture_output=True, text=True, cwd=tmp_path,
                          env={**__import__("os").environ, "PYTHONPATH": f"{tmp_path}"})
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "FAIL" in proc.stdout and "reference" in proc.stdout


@pytest.mark.parametrize(("args", "message"), [
    (["run", "-b", "nosuch"], "unknown backend 'nosuch'; known: "),
    (["run", "-b", "nosuch_module_xyz:Thing"], "cannot import 'nosuch_module_xyz'"),
    (["run", "-s", "no-such-spec*"], "matches no spec"),
    (["run", "--json", "/nonexistent-dir/r.json"], "does not exist"),
])
def test_bad_arguments_exit_2_with_one_line(args, message) -> None:
    proc = gradparity(*args)
    assert proc.returncode == 2
    assert message in proc.stderr and "Traceback" not in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1


def test_help_explains_every_run_option() -> None:
    text = gradparity("run", "--help").stdout
    for option in ("--backend", "--spec", "--kind", "--tag", "--json", "--table", "--progress",
                   "scoreboard", "heartbeat", "Exit code", "interrupted at any point"):
        assert option in text, option
    listing = gradparity("specs", "--help").stdout
    for option in ("--spec", "--kind", "--tag", "--catalog"):
        assert option in listing, option


def test_backends_lists_builtins_installed_or_not() -> None:
    out = gradparity("backends").stdout
    for name in ("tf-eager", "tf-graph", "jax", "autograd", "pytensor", "theano"):
        assert name in out


# -- robustness: every bad argument is one line and exit 2, found before any work -----------

@pytest.mark.parametrize(("backends", "message"), [
    ([":X"], "backend ':X': not package.module:ClassName"),
    ([".x:Y"], "backend '.x:Y': not package.module:ClassName"),
    (["plugin_backends:"], "not package.module:ClassName"),
    (["plugin_backends:NeedsArguments"], "NeedsArguments() failed (TypeError: "),
    (["plugin_backends:Nameless"], "its name '' is not a non-empty printable string"),
    (["autograd", "autograd"], "backend 'autograd' is named twice"),
    (["autograd", "backends.autograd_backend:AutogradBackend"], "'autograd' is named twice"),
])
def test_bad_backends_exit_2_with_one_line(backends, message) -> None:
    args = [arg for name in backends for arg in ("-b", name)]
    one_line_usage_error(gradparity("run", *args, "-s", "polynomial-float64"), message)


def test_a_plugin_module_that_raises_on_import_is_one_line(tmp_path) -> None:
    (tmp_path / "broken_plugin.py").write_text("raise RuntimeError('cannot start')\n")
    proc = gradparity("run", "-b", "broken_plugin:Thing", cwd=tmp_path,
                      env={**os.environ, "PYTHONPATH": f"{tmp_path}{os.pathsep}{PATH}"})
    one_line_usage_error(proc, "cannot import 'broken_plugin': RuntimeError: cannot start")


@pytest.mark.parametrize("option", ["--json", "--junit", "--html"])
@pytest.mark.parametrize(("where", "message"), [
    ("/proc/report", "cannot create a file in /proc"),
    ("/sys/report", "cannot create a file in /sys (Permission denied)"),  # even for root
    ("{tmp}/" + "r" * 300, "the file name is longer than 255 bytes"),
    ("{tmp}", "is a directory"),
])
def test_unwritable_report_paths_are_found_before_the_run(tmp_path, option, where,
                                                          message) -> None:
    proc = gradparity("run", "-b", "autograd", "-s", "polynomial-float64", option,
                      where.format(tmp=tmp_path))
    one_line_usage_error(proc, message)
    assert sorted(tmp_path.iterdir()) == []  # and the probe left nothing behind


@pytest.mark.skipif(os.geteuid() == 0, reason="root may write into a read-only folder")
def test_a_report_in_a_read_only_folder_is_found_before_the_run(tmp_path) -> None:
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o500)
    proc = gradparity("run", "-b", "autograd", "--json", str(locked / "r.json"))
    one_line_usage_error(proc, "Permission denied")


@pytest.mark.parametrize(("args", "message"), [
    (["--json", "{tmp}/r.json", "--junit", "{tmp}/r.json"], "--junit and --json both name"),
    (["--json", "{tmp}/r.json", "--html", "{tmp}/sub/../r.json"], "--html and --json both"),
    (["--junit", "{tmp}/x", "--html", "{tmp}/x"], "--html and --junit both name"),
    (["--json", "{tmp}/r.json", "--html", "{tmp}/r-cases"], "--html and --json's cases folder"),
])
def test_two_reports_may_not_share_a_file(tmp_path, args, message) -> None:
    (tmp_path / "sub").mkdir()
    proc = gradparity("run", "-b", "autograd", *(a.format(tmp=tmp_path) for a in args))
    one_line_usage_error(proc, message)


@pytest.mark.parametrize(("args", "message"), [
    (["--timeout", "1e400"], "'1e400' is more than 1e+06"),
    (["--timeout", "inf"], "'inf' is more than 1e+06"),
    (["--timeout", "3e6"], "'3e6' is more than 1e+06 (about 11 days"),
    (["--timeout", "-5"], "'-5' is not a number of seconds > 0"),
    (["--memory-limit", "-5"], "'-5' is not a whole number >= 1"),
    (["--memory-limit", str(2**50)], "is more than 8.79609e+12 (RLIMIT_AS is a 64-bit byte"),
])
def test_limits_beyond_what_the_system_accepts_exit_2(args, message) -> None:
    one_line_usage_error(gradparity("run", "-b", "autograd", *args), message)


def test_a_memory_limit_above_the_hard_rlimit_exits_2() -> None:
    hard = 64 * 2**30
    if resource.getrlimit(resource.RLIMIT_AS)[1] not in (resource.RLIM_INFINITY,) and (
            resource.getrlimit(resource.RLIMIT_AS)[1] < hard):
        pytest.skip("this process already has a hard RLIMIT_AS below 64 GiB")

    def limit() -> None:  # runs in the child before it executes python
        resource.setrlimit(resource.RLIMIT_AS, (hard, hard))

    proc = gradparity("run", "-b", "autograd", "--memory-limit", "70000", preexec_fn=limit)
    one_line_usage_error(proc, "'70000' is more than 65536 (the hard RLIMIT_AS of this process")


def test_output_closed_early_ends_quietly(backend, tmp_path) -> None:
    """``gradparity specs | head`` and a run piped into a reader that is gone: no
    BrokenPipeError traceback, exit 141 as for SIGPIPE, and the reports still written."""
    backend("autograd")
    for args in (["specs"], ["run", "-b", "autograd", "-s", "polynomial-float64",
                             "--json", str(tmp_path / "r.json")]):
        proc = subprocess.Popen([sys.executable, "-m", "conformance.cli", *args],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                env={**os.environ, "PYTHONPATH": PATH})
        proc.stdout.close()  # the reader is gone before the first line is written
        err = proc.stderr.read()
        assert proc.wait(timeout=120) == 141, err
        progress = [line for line in err.splitlines() if "cases done" in line]
        assert err.splitlines() == progress, err  # no BrokenPipeError, nothing but progress
    assert json.loads((tmp_path / "r.json").read_text())["results"][0]["status"] == "PASS"


def test_a_run_where_nothing_was_checked_exits_5_saying_why(backend) -> None:
    proc = gradparity("run", "-b", "plugin_backends:Missing", "-s", "polynomial-*")
    assert proc.returncode == 5, proc.stdout + proc.stderr
    assert proc.stderr == ("gradparity: nothing was checked: all 2 cases were SKIPPED or "
                           "UNSUPPORTED (missing: not installed: no_such_framework_xyz "
                           "(pip install no-such-framework-xyz))\n")
    assert "2 SKIPPED" in proc.stdout  # the table is printed as always
    backend("autograd")
    both = gradparity("run", "-b", "plugin_backends:Missing", "-b", "autograd",
                      "-s", "polynomial-float64")
    assert both.returncode == 0, both.stdout + both.stderr  # one backend checked something


# -- starting: names close to a known one, plug-ins beside the user's files, filters --------

def test_an_unknown_backend_close_to_a_known_one_says_which() -> None:
    one_line_usage_error(gradparity("run", "-b", "tf_eager"),
                         "unknown backend 'tf_eager'; did you mean tf-eager? known: tf-eager")
    far = gradparity("run", "-b", "nosuch")
    assert "did you mean" not in far.stderr and "unknown backend 'nosuch'; known:" in far.stderr


@pytest.mark.skipif(sys.version_info < (3, 11), reason="python -P (no current folder on the "
                    "path, as the gradparity script runs) is Python 3.11's")
def test_a_plugin_in_the_current_folder_needs_no_pythonpath(backend, tmp_path) -> None:
    backend("autograd")
    (tmp_path / "mymod.py").write_text(
        "from backends.autograd_backend import AutogradBackend\n"
        "class MyBackend(AutogradBackend):\n"
        "    name = 'mine'\n")
    project = str(Path(__file__).parent.parent)  # gradparity itself, not the plug-in's folder
    env = {**os.environ, "PYTHONPATH": project}
    command = [sys.executable, "-P", "-m", "conformance.cli", "run", "-s", "polynomial-float64"]
    proc = subprocess.run([*command, "-b", "mymod:MyBackend"], capture_output=True, text=True,
                          cwd=tmp_path, env=env)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout.splitlines()[-1] == "1 PASS"
    missing = subprocess.run([*command, "-b", "nomod:MyBackend"], capture_output=True,
                             text=True, cwd=tmp_path, env=env)
    one_line_usage_error(missing, f"cannot import 'nomod': No module named 'nomod' (looked in "
                                  f"the current folder {tmp_path}, {project} and the installed "
                                  "packages in ")


def test_keras_backends_name_their_engine_in_the_install_hint() -> None:
    from backends.keras3 import KerasJaxBackend, KerasTFBackend, KerasTorchBackend

    assert KerasTFBackend().install_hint() == "pip install 'gradparity[keras,tf]'"
    assert KerasJaxBackend().install_hint() == "pip install 'gradparity[keras,jax]'"
    torch_hint = KerasTorchBackend().install_hint()
    assert torch_hint.startswith("pip install 'gradparity[keras]' torch (")
    assert "--index-url https://download.pytorch.org/whl/cpu" in torch_hint

    pytest.importorskip("keras", reason="the engine-only hint is for an installed Keras")

    class NoEngine(KerasTorchBackend):  # keras found, the engine not: only the engine
        requires = {"keras": "keras", "no_such_engine_xyz": "no-such-engine"}

    assert NoEngine().install_hint().startswith("pip install no-such-engine (")


def test_specs_and_run_take_the_same_filters() -> None:
    listed = gradparity("specs", "-t", "op-linalg", "-k", "hvp")
    assert listed.returncode == 0, listed.stderr
    rows = [line.split() for line in listed.stdout.splitlines()]
    assert rows and all(row[0].startswith("op-linalg-") and row[1] == "hvp" for row in rows)
    named = gradparity("specs", "-s", "seed001*", "-s", "lstm-*")  # slow ones listed, marked
    assert "[slow: run only when named]" in named.stdout
    assert {line.split()[0][:5] for line in named.stdout.splitlines()} == {"seed0", "lstm-"}
    one_line_usage_error(gradparity("specs", "-t", "nosuch"),
                         "--tag 'nosuch' is on no spec; the tags: ")
    one_line_usage_error(gradparity("run", "-s", "polynomial-*", "-k", "hvp"),
                         "no spec matches --spec polynomial-* with --kind hvp")
    one_line_usage_error(gradparity("specs", "-k", "hessian"), "invalid choice: 'hessian'")


def test_run_filters_by_kind_and_tag(backend) -> None:
    backend("autograd")
    proc = gradparity("run", "-b", "autograd", "-t", "seed001", "-k", "grad")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout.splitlines()[-1] == "4 PASS"
