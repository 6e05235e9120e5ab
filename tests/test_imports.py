"""Importing gradparity or listing backends loads no framework (checked in a fresh process)."""

from __future__ import annotations

import subprocess
import sys

from backends.registry import framework_modules

#: Every module a built-in backend requires (torch too: keras-torch's).
FRAMEWORKS = framework_modules()

PROBE = """
import sys
{body}
loaded = sorted(m for m in {frameworks!r} if m in sys.modules)
print("LOADED:" + ",".join(loaded))
"""


def loaded_after(body: str) -> list[str]:
    code = PROBE.format(body=body, frameworks=FRAMEWORKS)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    line = next(x for x in out.stdout.splitlines() if x.startswith("LOADED:"))
    return [m for m in line.removeprefix("LOADED:").split(",") if m]


def test_import_conformance_loads_no_framework() -> None:
    assert loaded_after("import conformance, conformance.harness, conformance.catalog, "
                        "conformance.cli, conformance.reference") == []


def test_import_backends_and_load_every_adapter_class_loads_no_framework() -> None:
    body = "import backends\nfor name in backends.known():\n    backends.load(name)"
    assert loaded_after(body) == []


def test_backends_command_loads_no_framework() -> None:
    body = ("import contextlib, io\nfrom conformance.cli import main\n"
            "with contextlib.redirect_stdout(io.StringIO()):\n    main(['backends'])")
    assert loaded_after(body) == []
