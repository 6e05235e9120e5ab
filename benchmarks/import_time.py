"""Import time: ``import conformance`` and ``gradparity backends`` stay free of frameworks.

Fresh processes, alternating: the bare interpreter, importing gradparity's packages, the
``gradparity backends`` command, and each framework's import for scale. Also prints which
frameworks each gradparity process loaded (it must be none).

    python benchmarks/import_time.py            # about a minute
    python benchmarks/import_time.py --smoke
"""

from __future__ import annotations

import subprocess
import sys

import _timing  # first: it puts the repository on sys.path

from backends import _tf

FRAMEWORKS = ("tensorflow", "tf_keras", "jax", "autograd", "torch")
GRADPARITY = "import conformance, conformance.cli, conformance.harness, conformance.catalog, " \
             "backends"
BACKENDS_COMMAND = "from conformance.cli import main; main(['backends'])"
LOADED = f"; import sys; print(sorted(m for m in {FRAMEWORKS!r} if m in sys.modules))"


def python(code: str) -> list[str]:
    return [sys.executable, "-c", code]


def loaded_by(code: str) -> str:
    """The frameworks a fresh process running ``code`` has loaded, as printed by it."""
    out = subprocess.run(python(code + LOADED), env=_timing.CHILD_ENV, cwd=_timing.ROOT,
                         capture_output=True, text=True, check=True).stdout
    return out.strip().splitlines()[-1]


def main() -> None:
    args = _timing.parser(__doc__.split("\n\n")[0], rounds=10).parse_args()
    command = " ".join(["python benchmarks/import_time.py", *sys.argv[1:]])
    setup = f"import os; os.environ.update({dict(_tf.IMPORT_ENV)!r}); "
    processes = {"python -c pass": python("pass"),
                 "import conformance, backends": python(GRADPARITY),
                 "gradparity backends": python(BACKENDS_COMMAND),
                 "import autograd": python("import autograd"),
                 "import jax": python("import jax"),
                 "import tensorflow, tf_keras": python(setup + "import tensorflow, tf_keras")}
    installed = {name: argv for name, argv in processes.items()  # (also a warm-up run)
                 if subprocess.run(argv, env=_timing.CHILD_ENV, capture_output=True).returncode
                 == 0}
    medians = _timing.alternate(
        {name: lambda argv=argv: _timing.run_process(argv) for name, argv in installed.items()},
        rounds=1 if args.smoke else args.rounds, warmup=0)
    bare = medians["python -c pass"]
    body = _timing.table(
        ["process", "median wall", "over bare python"],
        [[name, _timing.duration(t), _timing.duration(t - bare) if t > bare else "-"]
         for name, t in medians.items()])
    body += (f"\n\nframeworks loaded by 'import conformance, backends': {loaded_by(GRADPARITY)}"
             f"\nframeworks loaded by 'gradparity backends': {loaded_by(BACKENDS_COMMAND)}")
    _timing.report("import time of gradparity vs the frameworks", command, body)


if __name__ == "__main__":
    main()
