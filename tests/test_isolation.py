"""Worker isolation with real processes and real signals: crashes, hangs, memory, interrupts.

Planted backends (tests/planted_faults.py) misbehave on the ``logsumexp-*`` specs only, so
each test also sees that the cases before a fault keep their answers and that a fresh worker
takes the cases after it.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from pathlib import Path

import planted_faults
import pytest

from conformance.catalog.starter import starter_specs
from conformance.harness import in_process, run
from conformance.reports.json import to_json
from conformance.reports.terminal import table
from conformance.results import Status
from conformance.spec import Spec
from conformance.workers import WorkerOptions, in_workers

SPECS = ("polynomial-float64", "logsumexp-float64", "rosenbrock-hvp-float64")
TIMEOUT = 2.0


@pytest.fixture(scope="module")
def specs(backend) -> list[Spec]:
    backend("autograd")
    return [s for s in starter_specs() if s.name in SPECS]


def rows(report) -> dict[tuple[str, str], object]:
    return {(r.spec, r.backend): r for r in report.results}


def comparable(result) -> tuple:
    """What must not change when other backends crash (not the timings or pairwise)."""
    return (result.status, result.max_abs_error, result.max_rel_error, result.worst,
            result.message, result.diagnoses)


def test_crashes_hangs_and_memory_become_errors_and_the_rest_is_intact(
        specs, tmp_path, monkeypatch) -> None:
    faulty = [planted_faults.Abort(), planted_faults.Segfault(), planted_faults.Exit(),
              planted_faults.Hang(), planted_faults.MemoryHog(), planted_faults.Raise()]
    healthy = planted_faults.Planted()  # its `on` never fails: a correct backend
    clean = run(specs, [healthy], executor=in_process)
    monkeypatch.setenv("PLANTED_PIDS", str(tmp_path))  # workers record their pids from here
    options = WorkerOptions(jobs=3, timeout=TIMEOUT, memory_limit_mib=3072)
    report = run(specs, [healthy, *faulty], executor=in_workers(options))

    got = rows(report)
    assert len(report.results) == len(specs) * (1 + len(faulty)) and report.complete
    for spec in specs:  # the healthy backend's rows equal a clean run's
        clean_row = rows(clean)[spec.name, "planted"]
        assert comparable(got[spec.name, "planted"]) == comparable(clean_row)
        assert got[spec.name, "planted"].status is Status.PASS
    for backend in faulty:  # before and after the fault: answered, by a fresh worker after
        assert got["polynomial-float64", backend.name].status is Status.PASS
        assert got["rosenbrock-hvp-float64", backend.name].status is Status.PASS
    message = {b.name: got["logsumexp-float64", b.name].message for b in faulty}
    assert all(got["logsumexp-float64", b.name].status is Status.ERROR for b in faulty)
    assert "killed by signal SIGABRT" in message["abort"]
    assert "killed by signal SIGSEGV" in message["segfault"]
    assert "Segmentation fault" in message["segfault"]  # the tail of the worker's stderr
    assert "exited with code 7" in message["exit"] and "planted: giving up" in message["exit"]
    assert message["hang"].startswith("timeout")
    assert "planted_faults.py" in message["hang"] and "in fault" in message["hang"]  # where
    assert message["memory-hog"].startswith("MemoryError") and "3072 MiB" in message["memory-hog"]
    assert message["raise"] == "RuntimeError: planted failure"
    assert "ERROR logsumexp-float64 on segfault: worker crashed" in table(report)
    json.dumps(to_json(report), allow_nan=False)

    workers = {name: [line.split()[0] for line in (tmp_path / name).read_text().splitlines()]
               for name in ("planted", "segfault", "raise")}
    assert len(set(workers["planted"])) == 1  # one worker for all of a backend's specs
    assert len(set(workers["raise"])) == 1  # an exception does not cost the worker
    assert workers["segfault"][0] == workers["segfault"][1] != workers["segfault"][2]
    assert str(os.getpid()) not in workers["planted"]


def test_after_two_timeouts_in_a_row_a_backend_is_not_tried_again(backend, tmp_path,
                                                                  monkeypatch) -> None:
    """A hanging plug-in costs two timeouts, not one per spec: its other cases are ERROR at
    once, and no worker is started for them; other backends are not affected."""
    backend("autograd")
    five = [s for s in starter_specs()
            if s.name in (*SPECS, "polynomial-float32", "mlp-vjp-float32")]
    monkeypatch.setenv("PLANTED_PIDS", str(tmp_path))
    report = run(five, [planted_faults.HangAlways(), planted_faults.Planted()],
                 executor=in_workers(WorkerOptions(jobs=2, timeout=1.0)))
    got = [r for r in report.results if r.backend == "hang-always"]
    assert len(five) == 5 and [r.status for r in got] == [Status.ERROR] * 5
    timed_out = [r.message.startswith("timeout: no answer within 1 s") for r in got]
    assert timed_out == [True, True, False, False, False]
    for result in got[2:]:
        assert result.message == ("not run: the backend timed out twice in a row "
                                  "(--timeout 1 s), so its remaining cases were not tried")
    tried = (tmp_path / "hang-always").read_text().splitlines()
    # only the two cases that timed out ever reached a worker (under load, the second
    # worker may not even have started within its second before it was stopped)
    assert 1 <= len(tried) <= 2
    assert [line.split()[1] for line in tried] == [s.name for s in five[:len(tried)]]
    assert len({line.split()[0] for line in tried}) == len(tried)  # a new worker per try
    assert {r.status for r in report.results if r.backend == "planted"} == {Status.PASS}


def test_outputs_come_back_as_numpy_or_as_a_description(specs) -> None:
    backends = [planted_faults.liar("tensor"), planted_faults.liar("float32")]
    report = run(specs, backends, executor=in_workers(WorkerOptions(jobs=2, timeout=30)))
    got = rows(report)
    assert got["logsumexp-float64", "lie-tensor"].message == (
        "key 'z' is a planted_faults.Tensor [(4, 5) float64], not a numpy array; convert it "
        "with np.asarray")
    downcast = got["logsumexp-float64", "lie-float32"]
    assert downcast.status in (Status.FAIL, Status.ERROR)
    assert all(word in downcast.message for word in ("z", "float32", "float64"))
    assert got["polynomial-float64", "lie-tensor"].status is Status.PASS


def test_spawned_workers_refuse_unpicklable_specs_with_a_clear_error(specs) -> None:
    lambda_spec = Spec("lambda-spec", lambda xp, x: xp.sum(x**2), {"x": [1.0, 2.0]}, ("x",))
    report = run([specs[0], lambda_spec], [planted_faults.Planted()],
                 executor=in_workers(WorkerOptions(jobs=1, timeout=30, start_method="spawn")))
    got = rows(report)
    assert got["polynomial-float64", "planted"].status is Status.PASS
    assert got["lambda-spec", "planted"].status is Status.ERROR
    assert "spec 'lambda-spec' cannot be sent to a spawned worker" in (
        got["lambda-spec", "planted"].message)
    assert "--in-process" in got["lambda-spec", "planted"].message


def test_forked_workers_take_lambdas() -> None:
    """In a fresh process (no framework loaded, as in the CLI) workers fork and so can run
    specs and backends made of lambdas; forking here, after pytest loaded JAX, could hang."""
    code = (
        "from backends import FunctionBackend\n"
        "from conformance.harness import run\n"
        "from conformance.spec import Spec\n"
        "from conformance.workers import WorkerOptions, choose_start_method, in_workers\n"
        "spec = Spec('lambda-spec', lambda xp, x: xp.sum(x**2), {'x': [1.0, 2.0]}, ('x',))\n"
        "mine = FunctionBackend('mine', lambda spec, arrays: "
        "{'value': (arrays['x'] ** 2).sum(), 'x': 2 * arrays['x']})\n"
        "report = run([spec], [mine], executor=in_workers(WorkerOptions(jobs=1)))\n"
        "print(choose_start_method(), report.results[0].status.value, report.results[0].message)\n")
    root = Path(__file__).resolve().parent.parent
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env={**os.environ, "PYTHONPATH": str(root)})
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stdout.split()[:2] == ["fork", "PASS"], proc.stdout


# -- the command: interrupts and bad options -----------------------------------------------

#: Runs the CLI on the starter catalog (independent of the seed scenarios' state).
DRIVER = ("import sys, conformance.catalog as c\n"
          "from conformance.catalog.starter import starter_specs\n"
          "c.catalog = starter_specs\n"
          "from conformance.cli import main\n"
          "sys.exit(main(sys.argv[1:]))\n")


def gradparity(*args: str, env: dict[str, str] | None = None) -> subprocess.Popen:
    tests = Path(__file__).parent
    path = os.pathsep.join([str(tests), str(tests.parent), os.environ.get("PYTHONPATH", "")])
    return subprocess.Popen([sys.executable, "-c", DRIVER, *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "PYTHONPATH": path, **(env or {})})


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_an_interrupted_run_writes_a_valid_partial_report(backend, tmp_path, signum) -> None:
    backend("autograd")
    mark, report_path = tmp_path / "reached", tmp_path / "report.json"
    proc = gradparity("run", "-b", "autograd", "-b", "planted_faults:Slow", "-s", "polynomial-*",
                      "-s", "logsumexp-*", "--json", str(report_path), "--timeout", "600",
                      env={"PLANTED_MARK": str(mark)})
    for _ in range(600):  # until the slow backend sits in its second spec
        if mark.exists() or proc.poll() is not None:
            break
        time.sleep(0.05)
    assert mark.exists(), proc.communicate()
    proc.send_signal(signum)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 3, out + err
    assert "INCOMPLETE" in out and "Traceback" not in err
    data = json.loads(report_path.read_text())
    assert data["complete"] is False
    status = {(r["spec"], r["backend"]): r["status"] for r in data["results"]}
    assert len(status) == 4 * 2  # every case is listed, run or not
    assert status["polynomial-float64", "slow"] == "PASS"
    assert status["polynomial-float32", "slow"] == "NOT_RUN"
    assert status["logsumexp-float64", "slow"] == "NOT_RUN"
    assert {s for (_, b), s in status.items() if b == "autograd"} <= {"PASS", "NOT_RUN"}
    worker = int(mark.read_text())
    for _ in range(200):  # the hung worker was killed with the run
        if not alive(worker):
            break
        time.sleep(0.05)
    assert not alive(worker)


#: The starter's polynomials and a spec whose numpy evaluation is slow: after an interrupt,
#: judging the answer that came for it (its reference: many evaluations) takes seconds, a
#: window in which further Ctrl-Cs land.
SLOW_JUDGING = (
    "import sys, time\n"
    "import numpy as np\n"
    "import conformance.catalog as c\n"
    "from conformance.catalog.starter import starter_specs\n"
    "from conformance.spec import Spec\n"
    "def cubes(xp, x):\n"
    "    if xp is np:\n"
    "        time.sleep(0.05)\n"
    "    return xp.sum(x ** 3)\n"
    "slow = Spec('slow-reference', cubes, {'x': np.linspace(1.0, 2.0, 6)}, ('x',))\n"
    "c.catalog = lambda: [s for s in starter_specs() if s.name.startswith('poly')] + [slow]\n"
    "from conformance.cli import main\n"
    "sys.exit(main(sys.argv[1:]))\n")


def test_more_interrupts_during_the_shutdown_still_leave_the_table_and_the_report(backend,
        tmp_path) -> None:
    """Ctrl-C, then Ctrl-C again while the partial results are judged and written: the
    later ones are noted and ignored, the table and a valid partial report still come."""
    backend("autograd")
    mark, report_path, pids = tmp_path / "reached", tmp_path / "report.json", tmp_path / "pids"
    temporary = tmp_path / "tmp"  # the workers' logs go here (TMPDIR)
    pids.mkdir()
    temporary.mkdir()
    tests = Path(__file__).parent
    path = os.pathsep.join([str(tests), str(tests.parent), os.environ.get("PYTHONPATH", "")])
    proc = subprocess.Popen(
        [sys.executable, "-c", SLOW_JUDGING, "run", "-b", "planted_faults:Planted", "-b",
         "planted_faults:Slow", "--json", str(report_path), "--junit", str(tmp_path / "r.xml"),
         "--timeout", "600", "--table", "full"], stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, text=True,
        env={**os.environ, "PYTHONPATH": path, "PLANTED_MARK": str(mark),
             "PLANTED_PIDS": str(pids), "TMPDIR": str(temporary)})
    for _ in range(1200):  # the slow backend hangs in its 2nd spec, the other began the 3rd
        planted = pids / "planted"
        if mark.exists() and planted.exists() and "slow-reference" in planted.read_text():
            break
        if proc.poll() is not None:
            break
        time.sleep(0.05)
    assert mark.exists(), proc.communicate()
    time.sleep(1.0)  # the other backend answers slow-reference (its worker is not slowed)
    proc.send_signal(signal.SIGINT)
    time.sleep(0.3)
    for _ in range(5):  # judging slow-reference takes seconds: these land in the shutdown
        if proc.poll() is None:
            proc.send_signal(signal.SIGINT)
        time.sleep(0.05)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 3, out + err
    assert "Traceback" not in err and "SIGINT ignored: writing the table and the reports" in err
    assert "(INCOMPLETE run)" in out and "slow-reference" in out
    data = json.loads(report_path.read_text())
    status = {(r["spec"], r["backend"]): r["status"] for r in data["results"]}
    assert data["complete"] is False and len(status) == 3 * 2
    assert status["slow-reference", "planted"] == "PASS"  # judged during the shutdown
    assert status["polynomial-float32", "slow"] == "NOT_RUN"
    assert ET.parse(tmp_path / "r.xml").getroot().get("tests") == "6"
    assert not [p.name for p in tmp_path.iterdir() if p.name.startswith(".")]  # no half report
    assert list(temporary.iterdir()) == []  # every worker log removed (once)


@pytest.mark.parametrize(("args", "message"), [
    (["--jobs", "0"], "argument --jobs/-j: '0' is not a whole number >= 1"),
    (["--jobs", "two"], "'two' is not a whole number >= 1"),
    (["--timeout", "-1"], "argument --timeout: '-1' is not a number of seconds > 0"),
    (["--timeout", "nan"], "'nan' is not a number of seconds > 0"),
    (["--memory-limit", "0"], "argument --memory-limit: '0' is not a whole number >= 1"),
    (["-b", "nosuch"], "unknown backend 'nosuch'; known: tf-eager, tf-graph, jax, autograd"),
    (["-b", "planted_faults:Nothing"], "module 'planted_faults' has no 'Nothing'"),
    (["--no-such-option"], "unrecognized arguments: --no-such-option"),
])
def test_bad_run_options_exit_2_with_one_line(args, message) -> None:
    proc = gradparity("run", *args)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 2 and message in err and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1



@pytest.mark.parametrize("after", [0.5, 3.0])
def test_ctrl_c_at_any_moment_gives_exit_3_and_a_partial_report(tmp_path, after) -> None:
    """The real command on the whole catalog and every known backend, interrupted while it
    starts (reading arguments, loading the catalog, planning, starting workers): exit 3 and
    a valid report; a backend that is not installed stays SKIPPED, never NOT_RUN."""
    from backends.registry import known, load

    report_path = tmp_path / "report.json"
    tests = Path(__file__).parent
    path = os.pathsep.join([str(tests.parent), os.environ.get("PYTHONPATH", "")])
    proc = subprocess.Popen([sys.executable, "-m", "conformance.cli", "run", "--json",
                             str(report_path)], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, env={**os.environ, "PYTHONPATH": path})
    time.sleep(after)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=600)
    assert proc.returncode == 3, out[-2000:] + err[-2000:]
    assert "Traceback" not in err and out.splitlines()[-2].endswith("(INCOMPLETE run)")
    data = json.loads(report_path.read_text())
    assert data["complete"] is False
    absent = {name for name in known() if load(name).missing_modules()}
    for row in data["results"]:
        if row["backend"] in absent:
            assert row["status"] == "SKIPPED", row
    assert {r["backend"] for r in data["results"]} == set(known())
