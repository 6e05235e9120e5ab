"""Everything that writes or reads a run's report, one module per format.

``terminal`` (what ``gradparity run`` prints: the brief view or the whole table, and
:func:`~.terminal.explain`, the one-case text every format shares), ``progress`` (the bar
or the CI log lines while it runs), ``json`` (``--json``, the schema), ``junit``
(``--junit``), ``html`` (``--html``), ``repro`` (the reproduction snippets beside the JSON
report), ``read`` (a JSON report read back), ``merge`` and ``diff`` (the matrix commands over
read-back reports), and ``files`` (atomic writes, checked before a run).

A new file format for ``gradparity run`` is one module here with a ``write(report, path)``
function and one entry in :data:`FORMATS`: the option, its check before the run and the
write after it follow from that entry.
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from conformance.results import Report

Writer = Callable[["Report", "str | os.PathLike[str]"], None]


@dataclass(frozen=True)
class Format:
    """A report file ``gradparity run --<option> PATH`` writes: its writer and help text."""

    #: ``module:function`` of the writer, imported when a run writes this format
    writer: str
    help: str

    def load(self) -> Writer:
        """The writer function (importing its module)."""
        module, _, name = self.writer.partition(":")
        return getattr(importlib.import_module(module), name)


#: ``gradparity run``'s report files, by option name, in the order ``--help`` lists them.
FORMATS: dict[str, Format] = {
    "json": Format("conformance.reports.json:write_json",
                   "also write the JSON report (schema: docs/reference/json.md) to PATH; like "
                   "--junit and --html, checked before the run (writable, not the file of another "
                   "report)"),
    "junit": Format("conformance.reports.junit:write_junit",
                    "also write JUnit XML (one test case per result) to PATH, for CI"),
    "html": Format("conformance.reports.html:write_html",
                   "also write a self-contained HTML scoreboard page to PATH"),
}
