"""Users' own catalogs: a Python file or module whose ``specs()`` returns a list of Spec.

A catalog is named three ways, like a backend: a path (``my_specs.py``), an importable
module (``package.module``), or a name registered by an installed distribution in the
``gradparity.catalogs`` entry-point group (the value is ``package.module``, whose
``specs()`` is called, or ``package.module:function``). ``builtin`` names the built-in
catalog. Without any, :func:`load_catalogs` gives the built-in catalog and every registered
one.

Every problem with a catalog is one :class:`CatalogError` line naming it and, where the
fault is in its code, the line: a missing file, a syntax or import error, no ``specs()``,
``specs()`` raising (a SpecError, say), something other than a Spec in its list, and spec
names used twice.

A file catalog is loaded under a stable module name (``gradparity_catalog_<stem>_<hash of
its path>``) registered in ``sys.modules``, so its functions pickle by reference; a spawned
worker loads the same file under the same name before it unpickles the specs (see
:class:`Portable`).
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.metadata
import importlib.util
import pickle
import re
import sys
import traceback
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

from conformance.spec import Spec

ENTRY_POINT_GROUP = "gradparity.catalogs"
#: The name of the built-in catalog on the command line.
BUILTIN = "builtin"
#: File catalogs loaded in this process: module name -> file path (re-loaded by workers).
LOADED_FILES: dict[str, str] = {}


class CatalogError(Exception):
    """A catalog that cannot be used: ``message(option)`` is the one line to show."""

    def __init__(self, reference: str, detail: str) -> None:
        self.reference, self.detail = reference, detail
        super().__init__(f"{reference}: {detail}")

    def message(self, option: str = "--catalog") -> str:
        """``--catalog my_specs.py: line 12: SpecError: ...``."""
        return f"{option} {self.reference}: {self.detail}"


@dataclass
class Catalogs:
    """The specs of the catalogs asked for, and where each user spec came from."""

    specs: list[Spec] = field(default_factory=list)
    #: Spec name -> the catalog reference that loads it again (absent: built-in).
    origin: dict[str, str] = field(default_factory=dict)


def plugins() -> dict[str, str]:
    """Catalogs registered by installed distributions: name -> ``module[:function]``."""
    return {ep.name: ep.value for ep in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP)}


def is_path(reference: str) -> bool:
    """Whether a reference names a file (``.py``, a path separator, or an existing file)."""
    return reference.endswith(".py") or "/" in reference or Path(reference).is_file()


def module_name_for(path: Path) -> str:
    """The stable module name a catalog file is loaded under."""
    stem = re.sub(r"\W", "_", path.stem)
    digest = hashlib.sha1(str(path).encode()).hexdigest()[:10]
    return f"gradparity_catalog_{stem}_{digest}"


def _fault(exc: BaseException, source: str | None) -> str:
    """``line N: Type: message`` (the line in ``source`` where it happened, when known)."""
    shown = exc.msg if isinstance(exc, SyntaxError) else exc
    text = " ".join(f"{type(exc).__name__}: {shown}".split())
    line = None
    if isinstance(exc, SyntaxError) and source and exc.filename \
            and Path(exc.filename).resolve() == Path(source).resolve():
        line = exc.lineno
    elif source:
        frames = [f for f in traceback.extract_tb(exc.__traceback__)
                  if Path(f.filename).resolve() == Path(source).resolve()]
        line = frames[-1].lineno if frames else None
    return f"line {line}: {text}" if line else text


def load_file(path: str, module_name: str | None = None) -> ModuleType:
    """Execute a catalog file as a module registered in ``sys.modules`` (stable name)."""
    resolved = Path(path).resolve()
    if not resolved.is_file():
        raise CatalogError(path, "no such file")
    name = module_name or module_name_for(resolved)
    if name in sys.modules and LOADED_FILES.get(name) == str(resolved):
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, resolved)
    if spec is None or spec.loader is None:
        raise CatalogError(path, "cannot be loaded as a Python module; give a .py file")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except Exception as exc:  # noqa: BLE001 - any fault in the user's file is reported
        del sys.modules[name]
        raise CatalogError(path, _fault(exc, str(resolved))) from None
    LOADED_FILES[name] = str(resolved)
    return module


def _import(reference: str, module_name: str) -> ModuleType:
    try:
        return importlib.import_module(module_name)
    except ImportError as exc:
        if getattr(exc, "name", None) and module_name.startswith(str(exc.name)):
            raise CatalogError(reference, f"no such file, and no importable module "
                                          f"{module_name!r} ({exc})") from None
        raise CatalogError(reference, _fault(exc, _module_file(module_name))) from None
    except Exception as exc:  # noqa: BLE001 - any fault in the user's module is reported
        raise CatalogError(reference, _fault(exc, _module_file(module_name))) from None


def _module_file(module_name: str) -> str | None:
    try:
        found = importlib.util.find_spec(module_name)
    except (ImportError, ValueError):
        return None
    return found.origin if found else None


def _call_specs(reference: str, function: Any, source: str | None) -> list[Spec]:
    """Call a catalog's ``specs()`` and check that it returned a list of Spec."""
    try:
        found = function()
    except Exception as exc:  # noqa: BLE001 - SpecError or whatever the user's code raised
        raise CatalogError(reference, _fault(exc, source)) from None
    if not isinstance(found, list | tuple):
        raise CatalogError(reference, f"specs() returned an object of type "
                                      f"{type(found).__name__}; return a list of "
                                      "conformance.spec.Spec")
    for position, item in enumerate(found):
        if not isinstance(item, Spec):
            raise CatalogError(reference, f"item {position} of the list specs() returned is "
                                          f"of type {type(item).__name__}, not "
                                          "conformance.spec.Spec")
    return list(found)


def load_catalog(reference: str) -> list[Spec]:
    """The specs of one catalog: a file, a module, a registered name, or ``builtin``."""
    if reference == BUILTIN:
        from conformance.catalog import catalog

        return catalog()
    registered = plugins()
    attr = "specs"
    if is_path(reference):
        module = load_file(reference)
    else:
        target = registered.get(reference, reference)
        module_name, _, attr = target.partition(":")
        attr = attr or "specs"
        module = _import(reference, module_name)
    function = getattr(module, attr, None)
    if not callable(function):
        raise CatalogError(reference, f"defines no {attr}() function; define {attr}() "
                                      "returning a list of conformance.spec.Spec")
    return _call_specs(reference, function, getattr(module, "__file__", None))


def loadable(reference: str) -> str:
    """The reference as it loads again from anywhere: a file by its absolute path."""
    return str(Path(reference).resolve()) if is_path(reference) else reference


def load_catalogs(references: Sequence[str] | None = None) -> Catalogs:
    """The specs of the catalogs named (default: ``builtin`` and every registered catalog).

    Spec names must be unique across them: a duplicate is a CatalogError naming both.
    """
    names = list(references) if references else [BUILTIN, *plugins()]
    loaded = Catalogs()
    seen: dict[str, str] = {}
    for reference in dict.fromkeys(names):
        for spec in load_catalog(reference):
            if spec.name in seen:
                where = ("earlier in it" if seen[spec.name] == reference
                         else f"also in {seen[spec.name]}")
                raise CatalogError(reference, f"spec name {spec.name!r} is used twice "
                                              f"({where}); give each spec its own name")
            seen[spec.name] = reference
            loaded.specs.append(spec)
            if reference != BUILTIN:
                loaded.origin[spec.name] = loadable(reference)
    return loaded


def find(name: str, catalog: str | None = None) -> Spec:
    """The spec called ``name`` in ``catalog`` (default: the built-in and registered ones);
    what a reproduction snippet of a user-catalog case calls."""
    for spec in load_catalogs([catalog] if catalog else None).specs:
        if spec.name == name:
            return spec
    raise LookupError(f"no spec named {name!r} in {catalog or 'the catalog'}")


class Portable:
    """Specs on their way to a spawned worker, with the catalog files their functions live
    in: unpickling loads those files under the same module names first, so the functions
    resolve (with ``fork`` the object is inherited as is)."""

    def __init__(self, items: Sequence[Any]) -> None:
        self.items = list(items)

    def __reduce__(self) -> tuple[Any, tuple[Any, ...]]:
        return _restore, (dict(LOADED_FILES), pickle.dumps(self.items))


def _restore(files: dict[str, str], payload: bytes) -> Portable:
    for module_name, path in files.items():
        load_file(path, module_name)
    return Portable(pickle.loads(payload))
