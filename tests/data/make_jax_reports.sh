#!/usr/bin/env bash
# Rebuild the two real-environment reports that test merge and diff (tests/test_matrix.py):
# the starter specs on jax, once with an old jax (0.4.30, numpy 2.0) in a venv of its own
# and once with the jax of the project's venv (0.10.2, numpy 2.4 when these were made).
# Usage, from the repository root: tests/data/make_jax_reports.sh [PYTHON_OF_CURRENT_VENV]
set -euo pipefail
current=${1:-python}
old_venv=.venv-jax-old   # gitignored (.venv-*/)
[ -x "$old_venv/bin/python" ] || {
    python3.11 -m venv "$old_venv"
    "$old_venv/bin/pip" install -q "jax==0.4.30" "jaxlib==0.4.30" "numpy<2.1" "rich>=13"
}
specs=(-s 'polynomial-*' -s 'mlp-*' -s 'logsumexp-*' -s 'softmax-*' -s 'rosenbrock-*'
       -s 'vector-*')
export PYTHONPATH=$PWD
"$old_venv/bin/python" -m conformance.cli run -b jax "${specs[@]}" --json tests/data/jax-0.4.30.json
version=$("$current" -c 'import importlib.metadata as m; print(m.version("jax"))')
"$current" -m conformance.cli run -b jax "${specs[@]}" --json "tests/data/jax-$version.json"
