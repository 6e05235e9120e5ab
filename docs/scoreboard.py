"""The version matrix's scoreboard and the framework findings, written from JSON reports.

    tox -m scoreboard                               # run the matrix, then this with --reports
    python docs/scoreboard.py --reports .tox/matrix # merge those reports, write both pages
    python docs/scoreboard.py                       # the pages from docs/data/matrix.json.gz
    python docs/scoreboard.py --check               # exit 1 when a page is not what it gives

With ``--reports``, the reports (a folder's ``*.json``, or files) and the conventions results
of other environments (``docs/data/conventions-*.json``) are merged by ``gradparity merge``
into ``docs/data/matrix.json.gz``, which is committed: both pages are a function of that file
alone, so anyone regenerates them without installing a framework, and ``tests/test_docs.py``
checks that the committed pages are what it gives. The pages:

- ``docs/scoreboard.md``: backends x versions, counts per status, and every case whose
  verdict (status and diagnoses) or answer (a convention value) changed between two versions
  of one backend, each with the one line that reproduces both sides;
- ``docs/findings.md``: the framework behaviours the reports show (answers that changed
  between releases, wrong derivatives, NaN or infinity where other frameworks give a number,
  conventions that differ, errors), each with the versions affected and its reproduction.

It lives in docs/ beside generate.py (both write site pages from checked-in data; mkdocs.yml
excludes them from the site); benchmarks/ is for scripts that measure this machine.
"""

from __future__ import annotations

import argparse
import gzip
import json
import math
import os
import re
import shlex
import subprocess
import sys
import tempfile
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
MERGED = DOCS / "data" / "matrix.json.gz"  # gzip: the JSON is ~0.7 MB a column
PAGES = ("scoreboard.md", "findings.md")
#: Conventions results from environments the matrix does not build (Theano's).
EXTRA_REPORTS = "data/conventions-*.json"
#: Statuses in the order the tables show them.
STATUSES = ("PASS", "FAIL", "CONVENTION", "INCONCLUSIVE", "UNSUPPORTED", "ERROR", "SKIPPED",
            "NOT_RUN")
#: The statuses a finding is made of (wrong numbers, or the framework raising).
FINDING_STATUSES = ("FAIL", "ERROR")
#: Relative difference under which two convention answers are the same answer (float32
#: cases round differently between builds).
SAME_ANSWER_RTOL = 1e-6
CELL_WIDTH = 70  # longest message shown in a table cell


# -- the merged report ---------------------------------------------------------------------

@dataclass(frozen=True)
class Column:
    """One backend under one environment, as ``gradparity merge`` numbered it."""

    number: int
    backend: str
    versions: tuple[tuple[str, str], ...]
    python: str
    numpy: str
    reports: tuple[str, ...]

    @property
    def version(self) -> str:
        """The framework's version (its first module's), or "?" when none was recorded."""
        return self.versions[0][1] if self.versions else "?"

    @property
    def label(self) -> str:
        return f"{self.backend} {self.version}"

    @property
    def tox_env(self) -> str | None:
        """The matrix env whose report this column came from (reports are named after it)."""
        stems = {Path(r).stem for r in self.reports}
        return stems.pop() if len(stems) == 1 and next(iter(stems)).startswith("matrix-") \
            else None

    def install(self) -> str:
        """The pip line that installs this column's framework versions and numpy."""
        pins = [f"{m}=={v}" for m, v in self.versions] + [f"numpy=={self.numpy}"]
        return "pip install " + " ".join(pins)

    def sort_key(self) -> tuple[str, tuple[int, ...], str]:
        return self.backend, version_key(self.version), self.python


def version_key(version: str) -> tuple[int, ...]:
    """``"0.4.30"`` -> (0, 4, 30); the digits of each dotted part, for ordering releases."""
    return tuple(int(m.group()) if (m := re.match(r"\d+", p)) else 0 for p in version.split("."))


@dataclass
class Matrix:
    """The merged report: its columns and every result, keyed by (spec, column)."""

    columns: list[Column]
    results: dict[tuple[str, int], dict[str, Any]]
    specs: list[str]  # in the order of the first report that ran them

    @classmethod
    def load(cls, path: Path) -> Matrix:
        data = json.loads(gzip.decompress(path.read_bytes()) if path.suffix == ".gz"
                          else path.read_text())
        if "merge_schema_version" not in data:
            raise SystemExit(f"{path}: not a `gradparity merge --json` file "
                             "(no merge_schema_version); make it with --reports")
        columns = [Column(c["column"], c["backend"], tuple(c["versions"].items()),
                          c["python"], c["numpy"], tuple(c["reports"]))
                   for c in data["columns"]]
        results = {(r["spec"], r["column"]): r for r in data["results"]}
        specs = list(dict.fromkeys(r["spec"] for r in data["results"]))
        return cls(sorted(columns, key=Column.sort_key), results, specs)

    def by_backend(self) -> dict[str, list[Column]]:
        grouped: dict[str, list[Column]] = defaultdict(list)
        for column in self.columns:
            grouped[column.backend].append(column)
        return grouped

    def row(self, spec: str) -> list[tuple[Column, dict[str, Any]]]:
        return [(c, r) for c in self.columns if (r := self.results.get((spec, c.number)))]


# -- comparing results ---------------------------------------------------------------------

def verdict(result: dict[str, Any]) -> str:
    """Status and diagnoses: ``FAIL [kink]``."""
    codes = result.get("diagnoses") or []
    return result["status"] + (f" [{','.join(codes)}]" if codes else "")


def _floats(value: Any) -> list[float | None]:
    """A convention value (nested lists; NaN and infinities written as text) flattened;
    ``None`` (the framework's API gave no gradient) stays None."""
    if isinstance(value, list):
        return [x for v in value for x in _floats(v)]
    return [None if value is None else float(value)]


def answer(result: dict[str, Any]) -> dict[str, list[float | None]] | None:
    """A convention answer per ``wrt`` name, flattened, or None for a judged result."""
    values = result.get("convention_values")
    return None if values is None else {k: _floats(v) for k, v in values.items()}


def _same_number(a: float | None, b: float | None) -> bool:
    if a is None or b is None:
        return a is b
    if math.isnan(a) or math.isnan(b):
        return math.isnan(a) and math.isnan(b)
    return a == b or abs(a - b) <= SAME_ANSWER_RTOL * max(abs(a), abs(b))


def same_answer(a: dict[str, list[float]] | None, b: dict[str, list[float]] | None) -> bool:
    if a is None or b is None:
        return a is b
    return a.keys() == b.keys() and all(
        len(a[k]) == len(b[k]) and all(map(_same_number, a[k], b[k])) for k in a)


def not_finite(values: dict[str, list[float]] | None) -> bool:
    return values is not None and not all(x is None or math.isfinite(x)
                                          for v in values.values() for x in v)


def short(text: str, width: int = CELL_WIDTH) -> str:
    """The first line of ``text``, cut to ``width``, as literal text in a Markdown table
    cell (``__array__`` stays as it is, ``|`` does not end the cell)."""
    line = text.strip().splitlines()[0] if text.strip() else ""
    line = line if len(line) <= width else line[:width - 3] + "..."
    return re.sub(r"([\\`*_\[\]>|])", r"\\\1", line).replace("<", "&lt;")


def shown(result: dict[str, Any]) -> str:
    """A table cell: the verdict, and a convention's answer."""
    text = verdict(result)
    if result.get("convention_values") is not None and result.get("message"):
        text += f": {short(result['message'], 40)}"
    return text


@dataclass
class Change:
    """One case whose verdict or answer differs between two versions of one backend."""

    spec: str
    old: tuple[Column, dict[str, Any]]
    new: tuple[Column, dict[str, Any]]

    def reproduce(self) -> str:
        """One line that runs the case on both versions."""
        (a, _), (b, _) = self.old, self.new
        spec = shlex.quote(self.spec)
        if a.tox_env and b.tox_env:
            return f"tox -e {a.tox_env},{b.tox_env} -- -s {spec}"
        return f"{a.install()} && gradparity run -b {a.backend} -s {spec}  # then {b.version}"


def changes(matrix: Matrix, old: Column, new: Column) -> list[Change]:
    """The cases run on both columns whose verdict or answer differs."""
    found = []
    for spec in matrix.specs:
        a, b = matrix.results.get((spec, old.number)), matrix.results.get((spec, new.number))
        if a is None or b is None:
            continue
        if verdict(a) != verdict(b) or not same_answer(answer(a), answer(b)):
            found.append(Change(spec, (old, a), (new, b)))
    return found


def version_pairs(matrix: Matrix) -> list[tuple[Column, Column]]:
    """Consecutive releases of each backend (columns of one release on two Pythons are
    ``gradparity merge``'s conflicts, not framework changes)."""
    pairs = []
    for columns in matrix.by_backend().values():
        releases = list({c.versions: c for c in columns}.values())
        pairs += list(zip(releases, releases[1:]))
    return pairs


def run_line(column: Column, spec: str) -> str:
    return f"{column.install()} && gradparity run -b {column.backend} -s {shlex.quote(spec)}"


# -- the pages -----------------------------------------------------------------------------

def header(title: str, matrix: Matrix) -> list[str]:
    reports = sorted({r for c in matrix.columns for r in c.reports})
    return [f"# {title}", "",
            "<!-- Written by docs/scoreboard.py from docs/data/matrix.json.gz: do not edit. -->",
            "",
            f"Generated by `python docs/scoreboard.py` from `docs/data/matrix.json.gz`, the "
            f"`gradparity merge` of {len(reports)} reports ({len(matrix.columns)} columns, "
            f"{len(matrix.specs)} specs); `tox -m scoreboard` runs the matrix again and "
            "rewrites both ([the version matrix](guide/matrix.md)).", ""]


def table(head: Sequence[str], rows: Iterable[Sequence[str]]) -> list[str]:
    return ["| " + " | ".join(head) + " |", "|" + "---|" * len(head),
            *("| " + " | ".join(row) + " |" for row in rows), ""]


def scoreboard_page(matrix: Matrix) -> str:
    counts = {c.number: defaultdict(int) for c in matrix.columns}
    for (_, number), result in matrix.results.items():
        counts[number][result["status"]] += 1
    statuses = [s for s in STATUSES if any(s in n for n in counts.values())]
    lines = header("Scoreboard: backends x versions", matrix)
    lines += ["## Counts per status", "",
              "One column of `gradparity merge` per row: a backend under one release of its "
              "framework, with the numpy and Python it ran with.", ""]
    lines += table(["backend", "versions", "numpy", "python", "env", *statuses, "cases"],
                   ([c.backend, ", ".join(f"{m} {v}" for m, v in c.versions), c.numpy,
                     c.python, f"`{c.tox_env}`" if c.tox_env else Path(c.reports[0]).name,
                     *(str(counts[c.number].get(s, 0)) for s in statuses),
                     str(sum(counts[c.number].values()))] for c in matrix.columns))
    lines += ["## Framework changes between versions", "",
              "Every case whose verdict (status and diagnoses) or answer (a convention's "
              "derivative value) differs between two consecutive releases of one backend: a "
              "**framework change** (the gradparity code and the catalog are the same in every "
              "column; numpy may differ, and is shown above). The last column runs the case on "
              "both releases.", ""]
    pairs = version_pairs(matrix)
    if not pairs:
        lines += ["No backend was run on two releases.", ""]
    for old, new in pairs:
        found = changes(matrix, old, new)
        lines += [f"### {old.backend}: {old.version} -> {new.version}", ""]
        if not found:
            lines += [f"No case changed: {sum(1 for s in matrix.specs if (s, old.number) in matrix.results and (s, new.number) in matrix.results)} "  # noqa: E501
                      "cases with the same verdict and answer on both.", ""]
            continue
        lines += [f"{len(found)} framework change{'s' if len(found) > 1 else ''}:", ""]
        lines += table(["case", old.version, new.version, "reproduce"],
                       ([f"`{ch.spec}`", shown(ch.old[1]), shown(ch.new[1]),
                         f"`{ch.reproduce()}`"] for ch in found))
    return "\n".join(lines).rstrip() + "\n"


def _affected(rows: list[tuple[Column, dict[str, Any]]]) -> str:
    return ", ".join(c.label for c, _ in rows)


def findings_page(matrix: Matrix) -> str:
    lines = header("Framework findings", matrix)
    lines += ["What the frameworks themselves do, as the reports show it: each finding names "
              "the versions affected (and those not, where the matrix ran others) and the line "
              "that reproduces it. Nothing here is written by hand.", ""]
    lines += _changed_findings(matrix)
    lines += _status_findings(matrix, "FAIL", "Wrong derivatives",
                              "Cases where a framework's derivative is outside its tolerance of "
                              "the float64 reference (FAIL), with the run's message.")
    lines += _nonfinite_findings(matrix)
    lines += _convention_findings(matrix)
    lines += _status_findings(matrix, "ERROR", "Errors",
                              "Cases where the framework raised, crashed or hung (ERROR): a "
                              "framework limit or an adapter's, the message says which.")
    return "\n".join(lines).rstrip() + "\n"


def _changed_findings(matrix: Matrix) -> list[str]:
    lines = ["## Derivatives that changed between releases", ""]
    found = [ch for old, new in version_pairs(matrix) for ch in changes(matrix, old, new)]
    if not found:
        return lines + ["None: every case has the same verdict and answer on every release "
                        "run.", ""]
    for ch in found:
        (a, ra), (b, rb) = ch.old, ch.new
        lines += [f"- **`{ch.spec}`** on {a.backend}: {shown(ra)} with {a.version}, "
                  f"{shown(rb)} with {b.version}. Reproduce: `{ch.reproduce()}`"]
    return lines + [""]


def _status_findings(matrix: Matrix, status: str, title: str, intro: str) -> list[str]:
    lines = [f"## {title}", "", intro, ""]
    groups: dict[tuple[str, str], list[tuple[Column, dict[str, Any]]]] = defaultdict(list)
    for spec in matrix.specs:
        for column, result in matrix.row(spec):
            if result["status"] == status:
                groups[spec, column.backend].append((column, result))
    if not groups:
        return lines + ["None.", ""]
    rows = []
    for (spec, backend), hit in groups.items():
        others = [c for c in matrix.by_backend()[backend]
                  if (spec, c.number) in matrix.results and c not in {h for h, _ in hit}]
        newest, result = hit[-1]
        rows.append([f"`{spec}`", backend, verdict(result), _affected(hit),
                     ", ".join(c.version for c in others) or "-", short(result["message"]),
                     f"`{run_line(newest, spec)}`"])
    return lines + table(["case", "backend", "verdict", "versions affected", "not affected",
                          "message", "reproduce"], rows)


def _nonfinite_findings(matrix: Matrix) -> list[str]:
    lines = ["## NaN or infinity where others give a number", "",
             "Convention cases (a derivative at a non-differentiable point) where a framework "
             "answers NaN or an infinity while another framework answers a finite number.", ""]
    rows = []
    for spec in matrix.specs:
        answers = [(c, r, answer(r)) for c, r in matrix.row(spec) if answer(r) is not None]
        finite = [c for c, _, a in answers if not not_finite(a)]
        bad = [(c, r) for c, r, a in answers if not_finite(a)]
        if finite and bad:
            # reproduced where the matrix installed it: a column from a tox env of its own
            column, result = next(((c, r) for c, r in reversed(bad) if c.tox_env), bad[-1])
            rows.append([f"`{spec}`", _affected(bad), short(result["message"], 40),
                         ", ".join(c.label for c in finite), f"`{run_line(column, spec)}`"])
    if not rows:
        return lines + ["None.", ""]
    return lines + table(["case", "versions affected", "their answer", "finite on",
                          "reproduce"], rows)


def _convention_findings(matrix: Matrix) -> list[str]:
    lines = ["## Conventions that differ", "",
             "Convention cases where frameworks (or releases) answer differently: no answer is "
             "wrong there, but code moved between frameworks changes its numbers. Each answer "
             "lists the columns giving it.", ""]
    rows = []
    for spec in matrix.specs:
        groups: list[tuple[dict[str, list[float]], str, list[Column]]] = []
        for column, result in matrix.row(spec):
            if (a := answer(result)) is None:
                continue
            for known, _, cols in groups:
                if same_answer(known, a):
                    cols.append(column)
                    break
            else:
                groups.append((a, result.get("message", ""), [column]))
        if len(groups) > 1:
            rows.append([f"`{spec}`", "<br>".join(
                f"{short(text, 40)}: {', '.join(c.label for c in cols)}"
                for _, text, cols in groups)])
    if not rows:
        return lines + ["None.", ""]
    return lines + table(["case", "answers"], rows)


PAGE_WRITERS = {"scoreboard.md": scoreboard_page, "findings.md": findings_page}


# -- merging and the command line ----------------------------------------------------------

def report_files(sources: Sequence[Path]) -> list[Path]:
    """The reports named (a folder stands for its ``*.json``), then the extra conventions
    reports; paths relative to the repository where they are inside it."""
    files: list[Path] = []
    for source in sources:
        if source.is_dir():
            files += sorted(source.glob("*.json"))
        elif source.is_file():
            files.append(source)
        else:
            raise SystemExit(f"--reports {source}: no such file or folder; run the matrix "
                             "first (tox -m matrix) or name its reports")
    if not files:
        raise SystemExit(f"--reports {' '.join(map(str, sources))}: no *.json report there")
    files += sorted(DOCS.glob(EXTRA_REPORTS))
    return [Path(os.path.relpath(f.resolve(), ROOT)) if f.resolve().is_relative_to(ROOT)
            else f.resolve() for f in files]


def merge(reports: Sequence[Path], into: Path) -> None:
    """``gradparity merge REPORTS --json INTO`` (its table is not needed, its errors are);
    into a ``.gz`` path the JSON is gzipped with no time stamp, so the same merge gives the
    same bytes."""
    with tempfile.TemporaryDirectory() as scratch:
        merged = Path(scratch) / "merged.json"
        proc = subprocess.run(
            [sys.executable, "-m", "conformance.cli", "merge", *map(str, reports),
             "--json", str(merged)], cwd=ROOT, capture_output=True, text=True,
            env={**os.environ, "PYTHONPATH": os.pathsep.join(
                filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))})
        if proc.returncode not in (0, 1):  # 1: some FAIL or ERROR, which is what we publish
            raise SystemExit(f"gradparity merge failed: {proc.stderr.strip()}")
        data = merged.read_bytes()
    if into.suffix == ".gz":
        with open(into, "wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", filename="",
                                                    mtime=0, compresslevel=9) as out:
            out.write(data)
    else:
        into.write_bytes(data)


def pages(merged: Path) -> dict[str, str]:
    """Each page's text, from the merged report alone."""
    matrix = Matrix.load(merged)
    return {name: write(matrix) for name, write in PAGE_WRITERS.items()}


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="Write docs/scoreboard.md and docs/findings.md from the version matrix's "
                    "merged report (docs/data/matrix.json.gz); with --reports, make that report "
                    "first with gradparity merge.")
    parser.add_argument("--reports", action="append", type=Path, metavar="DIR|REPORT.json",
                        help="the matrix's JSON reports (a folder: its *.json; tox writes them "
                             "to .tox/matrix); repeatable. docs/data/conventions-*.json are "
                             "added. Without it the committed merged report is used")
    parser.add_argument("--merged", type=Path, default=MERGED, metavar="PATH",
                        help=f"the merged report to write or read (default: "
                             f"{MERGED.relative_to(ROOT)})")
    parser.add_argument("--out", type=Path, default=DOCS, metavar="DIR",
                        help="where to write the pages (default: docs/)")
    parser.add_argument("--check", action="store_true",
                        help="write nothing; exit 1 naming each page that differs from what "
                             "the merged report gives")
    args = parser.parse_args(argv)
    if args.reports:
        if args.check:
            parser.error("--check compares with the committed report; drop --reports")
        args.merged.parent.mkdir(parents=True, exist_ok=True)
        merge(report_files(args.reports), args.merged)
    if not args.merged.is_file():
        parser.error(f"--merged {args.merged}: no such file; make it with --reports")
    stale = []
    for name, text in pages(args.merged).items():
        path = args.out / name
        if args.check:
            if not path.is_file() or path.read_text() != text:
                stale.append(str(path))
            continue
        path.write_text(text)
        print(f"wrote {path}")
    for path in stale:
        print(f"{path} is not what {args.merged} gives: run python docs/scoreboard.py",
              file=sys.stderr)
    return 1 if stale else 0


if __name__ == "__main__":
    sys.exit(main())
