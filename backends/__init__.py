"""Backend adapters for gradparity. Importing this package imports no framework."""

from backends.base import Backend, FunctionBackend, Program, Unsupported
from backends.functional import FunctionalBackend
from backends.registry import BUILTIN, BackendNotFound, known, load

__all__ = ["BUILTIN", "Backend", "BackendNotFound", "FunctionBackend", "FunctionalBackend",
           "Program", "Unsupported", "known", "load"]
