"""gradparity's conformance harness; ``from conformance import check`` is the Python API
(see :mod:`conformance.api`). Importing the package imports nothing else (no framework)."""

from __future__ import annotations

from typing import Any

__version__ = "0.1.0"
__all__ = ["Checked", "check"]


def __getattr__(name: str) -> Any:
    """``check`` and ``Checked`` from :mod:`conformance.api`, imported when first used."""
    if name in __all__:
        from conformance import api

        return getattr(api, name)
    raise AttributeError(f"module 'conformance' has no attribute {name!r}")
