"""Regenerate the outputs shown in README.md and docs/: run every marked example and command
and write what it prints into its block, so the docs show what this machine prints.

    python docs/generate.py            # rewrite every generated block in place
    python docs/generate.py --check    # exit 1 naming each block whose text is stale
    python docs/generate.py -k merge   # only the blocks whose name contains "merge"

Markers (HTML comments, invisible on the site and on GitHub), each right before its block:

- ``<!-- example: NAME [needs=b1,b2] [file=my_specs.py] -->`` before a ```` ```python ````
  fence: code that runs as it stands (``tests/test_docs.py`` runs it). With ``file=`` it is a
  module the commands of the output block NAME use, written into their folder under that name.
- ``<!-- fragment -->`` before a ```` ```python ```` fence: a sketch with ``...`` in it,
  compiled, not run. Every Python fence in the docs carries one of these two markers.
- ``<!-- output: NAME [needs=...] [setup=torch-plugin] -->`` before a plain fence: what
  example NAME prints on stdout, or, when the block
  starts with ``$ ``, each ``$ command`` (``gradparity`` is this checkout's CLI; pipes
  work) followed by its stdout.
- ``<!-- sample: NAME -->`` before a fence: text a test of its own checks (a JSON report's
  fields, a line of output made in a test), left as it is here.
- ``<!-- generated: NAME -->`` ... ``<!-- /generated: NAME -->``: Markdown written by the
  function of that name in :data:`GENERATORS` (the conventions matrix, the op-catalog and
  calls-catalog counts).

``needs=`` names the backends a block needs; where one is not installed the block is kept
as it is (the test skips). Rounding errors differ between CPUs, BLAS builds and compilers,
so :func:`same_but_figures` compares a block with a fresh run figure-blind: words, statuses
and counts must match; numbers in exponent form (``2.8e-07``) and versions may differ;
decimals may differ in their last shown digit. :func:`cell_problems` checks every
``STATUS error/allowed`` cell.
"""

from __future__ import annotations

import argparse
import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
#: Results of the conventions cases from environments other than this one (Theano's: it
#: pins numpy 1.23), merged into the matrix; docs/guide/conventions.md says how to refresh.
CONVENTION_REPORTS = "data/conventions-*.json"

MARKER = re.compile(r"^(?P<indent>[ \t]*)<!-- (?P<kind>example|fragment|output|generated|sample)"
                    r"(?::\s*(?P<name>[\w.-]+))?(?P<attrs>(?:\s+\w+=\S+)*)\s*-->[ \t]*$", re.M)
FENCE = re.compile(r"\s*\n(?P<indent>[ \t]*)```\w*\n(?P<body>.*?)\n(?P=indent)```",
                   re.S)
PYTHON_FENCE = re.compile(r"^(?P<indent>[ \t]*)```python\n", re.M)


@dataclass
class Block:
    """One marked block of a Markdown file."""

    path: Path
    kind: str            # example, fragment, output or generated
    name: str
    attrs: dict[str, str]
    start: int           # the text's span in the file (the fence's body, or the region)
    end: int
    text: str
    indent: str = ""

    @property
    def needs(self) -> list[str]:
        return [n for n in self.attrs.get("needs", "").split(",") if n]

    @property
    def where(self) -> str:
        line = self.path.read_text()[:self.start].count("\n") + 1
        return f"{self.path.relative_to(ROOT)}:{line} ({self.kind} {self.name})"


@dataclass
class Docs:
    """Every marked block of README.md and docs/**/*.md."""

    blocks: list[Block] = field(default_factory=list)

    def named(self, kind: str, name: str) -> Block | None:
        return next((b for b in self.blocks if b.kind == kind and b.name == name), None)

    def of(self, kind: str) -> list[Block]:
        return [b for b in self.blocks if b.kind == kind]


def doc_files() -> list[Path]:
    """README.md and every Markdown page of the site."""
    return [ROOT / "README.md", *sorted(DOCS.rglob("*.md"))]


def parse(path: Path) -> Iterator[Block]:
    """The marked blocks of one file, in order."""
    text = path.read_text()
    for m in MARKER.finditer(text):
        attrs = dict(a.split("=", 1) for a in m.group("attrs").split())
        name = m.group("name") or ""
        if m.group("kind") == "generated":
            close = text.find(f"<!-- /generated: {name} -->", m.end())
            if close < 0:
                raise ValueError(f"{path}: <!-- generated: {name} --> has no closing marker")
            yield Block(path, "generated", name, attrs, m.end() + 1, close,
                        text[m.end() + 1:close])
            continue
        fence = FENCE.match(text, m.end())
        if fence is None:
            raise ValueError(f"{path}: {m.group(0).strip()} is not followed by a code fence")
        indent = fence.group("indent")
        body = "\n".join(line.removeprefix(indent) for line in fence.group("body").split("\n"))
        yield Block(path, m.group("kind"), name, attrs, fence.start("body"),
                    fence.end("body"), body + "\n", indent)


def collect() -> Docs:
    return Docs([b for path in doc_files() for b in parse(path)])


def unmarked_python_fences() -> list[str]:
    """Python fences that are neither an example nor a fragment: code nobody checks."""
    found = []
    for path in doc_files():
        text = path.read_text()
        for m in PYTHON_FENCE.finditer(text):
            before = text[:m.start()].rstrip().rsplit("\n", 1)[-1].strip()
            if not re.fullmatch(r"<!-- (example: .*|fragment) -->", before):
                found.append(f"{path.relative_to(ROOT)}:{text[:m.start()].count(chr(10)) + 1}")
    return found


# -- running ---------------------------------------------------------------------------------

def environment(extra_path: list[Path] = ()) -> dict[str, str]:
    """This checkout first on the path, so examples import its code."""
    path = [str(p) for p in extra_path] + [str(ROOT), os.environ.get("PYTHONPATH", "")]
    return {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, path)),
            "NO_COLOR": "1", "COLUMNS": "200"}


def run_example(code: str, cwd: Path = ROOT, timeout: float = 900) -> subprocess.CompletedProcess:
    """Run example code as ``python -c`` would, in its own interpreter."""
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          cwd=cwd, env=environment(), timeout=timeout)


def install_torch_plugin(into: Path) -> Path:
    """pip-install examples/torch-backend into ``into`` (a folder to put on PYTHONPATH),
    leaving this environment as it was; returns that folder."""
    source, target = into / "source", into / "site"
    shutil.copytree(ROOT / "examples" / "torch-backend", source,
                    ignore=shutil.ignore_patterns("build", "*.egg-info"))
    proc = subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps",
                           "--no-build-isolation", "--target", str(target), str(source)],
                          capture_output=True, text=True)
    if proc.returncode:
        raise RuntimeError(f"pip could not install the torch example:\n{proc.stderr}")
    return target


#: Named preparations an output block may ask for (``setup=NAME``): each gets a scratch
#: folder and returns a folder to put on PYTHONPATH.
SETUPS: dict[str, Callable[[Path], Path]] = {"torch-plugin": install_torch_plugin}


def run_session(block: Block, docs: Docs) -> str:
    """A ``$ command`` session: each command run again, followed by its stdout."""
    commands = [line[2:] for line in block.text.splitlines() if line.startswith("$ ")]
    with tempfile.TemporaryDirectory() as scratch:
        folder, path = ROOT, []
        module = docs.named("example", block.name)
        if module is not None and "file" in module.attrs:  # the commands use that file
            folder = Path(scratch)
            (folder / module.attrs["file"]).write_text(module.text)
        if block.attrs.get("setup"):
            path.append(SETUPS[block.attrs["setup"]](Path(scratch)))
        out = []
        for command in commands:
            script = f'gradparity() {{ {shlex.quote(sys.executable)} -m conformance.cli "$@"; }}\n'
            proc = subprocess.run(["bash", "-c", script + command], capture_output=True,
                                  text=True, cwd=folder, env=environment(path), timeout=900)
            out += [f"$ {command}", *proc.stdout.rstrip("\n").splitlines()]
    return "\n".join(out) + "\n"


class Unavailable(Exception):
    """A generator cannot produce its block in this environment (the block is kept)."""


def op_catalog_families() -> str:
    """Per op family: how many ops (with variants) and how many cases."""
    import numpy as np

    from conformance.catalog import OP_FAMILIES, op_specs

    if np.lib.NumpyVersion(np.__version__) < "2.0.0":
        raise Unavailable("the docs count the catalog numpy 2 builds (numpy 1.x lacks the "
                          "array-API names such as asin)")

    lines = ["| family | ops (with variants: sum, sum along an axis, ...) | cases |",
             "| --- | --- | --- |"]
    specs = op_specs()
    for family in OP_FAMILIES:
        cases = [s for s in specs if s.tags[1] == f"op-{family}"]
        ops = {"-".join(s.name.split("-")[2:-2]) for s in cases}
        lines.append(f"| {family} | {len(ops)} | {len(cases)} |")
    total = len({"-".join(s.name.split("-")[1:-2]) for s in specs})
    lines.append(f"| all | {total} | {len(specs)} |")
    return "\n".join(lines) + "\n"


def calls_topics() -> str:
    """Per topic of the calls catalog: how many call forms and how many cases."""
    from conformance.catalog import calls

    lines = ["| topic | forms | cases |", "| --- | --- | --- |"]
    specs = calls.specs()
    topics = list(dict.fromkeys(s.tags[1].removeprefix("calls-") for s in specs))
    for topic in topics:
        cases = [s for s in specs if s.tags[1] == f"calls-{topic}"]
        forms = {s.name.rsplit("-", 2)[0] for s in cases}
        lines.append(f"| {topic} | {len(forms)} | {len(cases)} |")
    lines.append(f"| all | {len({s.name.rsplit('-', 2)[0] for s in specs})} | {len(specs)} |")
    return "\n".join(lines) + "\n"


def conventions_matrix() -> str:
    """The conventions matrix over every installed backend, plus the results recorded in
    other environments (docs/data/conventions-*.json); :func:`conformance.conventions.matrix`
    leaves out the backends that answer no case (the Keras 3 ones) and names them."""
    from backends.registry import known, load
    from conformance.conventions import markdown, run_conventions
    from conformance.reports.read import read_report
    from conformance.results import Report

    installed = [b for b in map(load, known()) if not b.missing_modules()]
    report, specs = run_conventions(installed)
    results = list(report.results)
    for path in sorted(DOCS.glob(CONVENTION_REPORTS)):
        results += [r for r in read_report(path).results if r.spec in {s.name for s in specs}]
    return markdown(Report(results, report.environment), specs)


#: ``<!-- generated: NAME -->`` regions and the function writing each.
GENERATORS: dict[str, Callable[[], str]] = {
    "op-catalog-families": op_catalog_families,
    "calls-topics": calls_topics,
    "conventions-matrix": conventions_matrix,
}


def missing_backends(block: Block) -> list[str]:
    """What a block needs that is not installed here: each ``needs=`` name is a backend
    (its framework must be installed) or, when no backend has that name, a module."""
    import importlib.util

    from backends.registry import known, load

    return [n for n in block.needs if (load(n).missing_modules() if n in known()
                                        else importlib.util.find_spec(n) is None)]


def render(block: Block, docs: Docs) -> str:
    """The block's text as this machine produces it now."""
    if block.kind == "generated":
        return GENERATORS[block.name]()
    if block.kind != "output":
        raise ValueError(f"{block.where}: only output and generated blocks are rendered")
    if block.text.startswith("$ "):
        return run_session(block, docs)
    example = docs.named("example", block.name)
    if example is None:
        raise ValueError(f"{block.where}: no example of that name, and no '$ ' command")
    proc = run_example(example.text)
    if proc.returncode:
        raise RuntimeError(f"{example.where} exited {proc.returncode}:\n{proc.stderr[-3000:]}")
    return proc.stdout


# -- comparing -------------------------------------------------------------------------------

#: Facts of the machine rather than of gradparity: versions (2.21.0, 2.13.0+cpu) and
#: platform strings (Linux-6.18.44-...-x86_64-with-glibc2.36).
ENVIRONMENT = re.compile(r"v?\d+(?:\.\d+){2,}\S*|[A-Za-z]+-\d+\.\d+\S*")
NUMBER = re.compile(r"[-+]?(?:\d+\.\d*|\.\d+|\d+)(?:[eE][-+]?\d+)?")
PIECES = re.compile(r"[\[\](),;:/|=]|[^\s\[\](),;:/|=]+")
CELL = re.compile(r"\b(PASS|FAIL|INCONCLUSIVE|CONVENTION) (\d\.\de[-+]\d+)/(\de[-+]\d+)")


def _same_number(shown: str, got: str) -> bool:
    if "e" in shown.lower() or "e" in got.lower():
        return True  # a measured figure (an error, a bound): machine-dependent
    if "." not in shown and "." not in got:
        return shown == got  # a count
    digits = max(len(n.split(".")[1]) if "." in n else 0 for n in (shown, got))
    return abs(float(shown) - float(got)) <= 1.5 * 10.0 ** -digits


def same_but_figures(shown: str, got: str) -> bool:
    """Whether two texts agree in every word, status and count, reading figures in
    exponent form, versions and platforms (``2.21.0``, ``Linux-6.18...``) as free and
    decimals as equal to their last shown digit; whitespace (column widths) is ignored."""
    a, b = (PIECES.findall(t) for t in (shown, got))
    if len(a) != len(b) or shown.count("\n") != got.count("\n"):
        return False
    for x, y in zip(a, b):
        if ENVIRONMENT.fullmatch(x) and ENVIRONMENT.fullmatch(y):
            continue  # a version or platform: this machine's, not the docs'
        if NUMBER.fullmatch(x) and NUMBER.fullmatch(y):
            if not _same_number(x, y):
                return False
        elif x != y:
            return False
    return True


def cell_problems(text: str) -> list[str]:
    """Table cells whose status contradicts their figures: a PASS (or CONVENTION) whose
    error is above what was allowed, a FAIL within it."""
    problems = []
    for status, error, allowed in CELL.findall(text):
        inside = float(error) <= float(allowed)
        if inside != (status != "FAIL") and status != "INCONCLUSIVE":
            problems.append(f"{status} {error}/{allowed}")
    return problems


def rendered(docs: Docs, selected: list[Block]) -> Iterator[tuple[Block, str | None, str]]:
    """Each selected output or generated block with its fresh text, or None and the reason
    it cannot be produced here."""
    for block in selected:
        if missing := missing_backends(block):
            yield block, None, f"needs {', '.join(missing)}"
            continue
        try:
            yield block, render(block, docs), ""
        except Unavailable as why:
            yield block, None, str(why)


def write(path: Path, fresh: dict[tuple[str, str], str]) -> None:
    """Put each fresh text, by (kind, name), in place of its block of ``path`` (indented as
    the block is), as the file stands now."""
    text = path.read_text()
    for block in sorted(parse(path), key=lambda b: -b.start):  # the spans before stay valid
        new = fresh.get((block.kind, block.name))
        if new is None:
            continue
        if block.kind != "generated":
            new = "\n".join(block.indent + line if line else line
                            for line in new.rstrip("\n").split("\n"))
        text = text[:block.start] + new + text[block.end:]
    path.write_text(text)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true",
                        help="rewrite nothing; exit 1 if a block differs beyond its figures")
    parser.add_argument("-k", metavar="TEXT", help="only blocks whose name contains TEXT")
    args = parser.parse_args(argv)
    docs = collect()
    selected = [b for b in docs.blocks if b.kind in ("output", "generated")
                and (args.k is None or args.k in b.name)]
    stale = 0
    changed: dict[Path, dict[tuple[str, str], str]] = {}
    for block, fresh, why in rendered(docs, selected):
        if fresh is None:
            print(f"kept    {block.where}: {why}")
            continue
        for problem in cell_problems(fresh):
            print(f"WRONG   {block.where}: {problem}")
            stale += 1
        same = same_but_figures(block.text, fresh)
        if args.check:
            if not same:
                print(f"STALE   {block.where}")
                stale += 1
        elif fresh != block.text:
            changed.setdefault(block.path, {})[(block.kind, block.name)] = fresh
            print(f"{'figures' if same else 'updated'} {block.where}")
    for path, fresh in changed.items():
        write(path, fresh)
    return 1 if stale else 0


if __name__ == "__main__":
    sys.exit(main())
