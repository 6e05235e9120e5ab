"""``gradparity diff OLD.json NEW.json``: what changed between two runs, for a CI step that
guards a framework upgrade.

Cases are matched by spec and backend. A **regression** (exit 1) is a case that FAILs or
ERRORs now but did not before, or a diagnosis code the case did not have before. Reported
but not a regression: other status changes, an error that grew more than tenfold while the
case still passes (the verdict already holds it to the dtype's tolerance; noise-level errors
can move tenfold between versions), cases added or removed, and changed versions.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from conformance.results import Report, Result, Status

#: An error counts as grown when it is more than this many times the old one.
GROWTH = 10.0


@dataclass
class Change:
    """One case that changed, and how."""

    spec: str
    backend: str
    text: str

    def __str__(self) -> str:
        return f"{self.spec} on {self.backend}: {self.text}"


@dataclass
class Diff:
    """Everything that changed between two reports, sorted by how much it matters."""

    regressions: list[Change] = field(default_factory=list)
    status_changes: list[Change] = field(default_factory=list)
    grown: list[Change] = field(default_factory=list)
    added: list[Change] = field(default_factory=list)
    removed: list[Change] = field(default_factory=list)
    environment: list[str] = field(default_factory=list)

    def sections(self) -> list[tuple[str, str, list[str]]]:
        """(title, what one entry is, lines) for each kind of change, in the text's order."""
        return [
            ("regressions (newly FAIL or ERROR, or a new diagnosis)", "regression",
             [str(c) for c in self.regressions]),
            ("other status changes", "status change", [str(c) for c in self.status_changes]),
            (f"errors grown more than {GROWTH:g}x (not a regression while the status holds)",
             f"error grown >{GROWTH:g}x", [str(c) for c in self.grown]),
            ("cases added", "case added", [str(c) for c in self.added]),
            ("cases removed", "case removed", [str(c) for c in self.removed]),
            ("environment changes", "environment change", self.environment),
        ]


def diff(old: Report, new: Report) -> Diff:
    """Compare two reports case by case (spec, backend)."""
    before = {(r.spec, r.backend): r for r in old.results}
    after = {(r.spec, r.backend): r for r in new.results}
    found = Diff(environment=environment_changes(old, new))
    for key, now in after.items():
        was = before.get(key)
        if was is None:
            found.added.append(Change(*key, _verdict(now)))
            continue
        new_codes = [c for c in now.diagnoses if c not in was.diagnoses]
        change = Change(*key, f"{_verdict(was)} -> {_verdict(now)}")
        if (now.status.is_problem and not was.status.is_problem) or new_codes:
            found.regressions.append(change)
        elif now.status is not was.status:
            found.status_changes.append(change)
        elif (ratio := growth(was, now)) is not None and ratio > GROWTH:  # listed once
            found.grown.append(Change(*key, f"max_rel_error from {was.max_rel_error:.1e} to "
                                            f"{now.max_rel_error:.1e}, {now.status.value}"))
    found.removed = [Change(*key, _verdict(was)) for key, was in before.items()
                     if key not in after]
    return found


def growth(was: Result, now: Result) -> float | None:
    """How many times the max relative error grew, or None when either has none. Errors below
    the dtype's machine epsilon count as epsilon: 0 -> 1e-16 is not a growth."""
    if was.max_rel_error is None or now.max_rel_error is None:
        return None
    if not (np.isfinite(was.max_rel_error) and np.isfinite(now.max_rel_error)):
        return None
    try:
        eps = float(np.finfo(now.dtype or "float64").eps)
    except (TypeError, ValueError):
        eps = float(np.finfo(np.float64).eps)
    return max(now.max_rel_error, eps) / max(was.max_rel_error, eps)


def environment_changes(old: Report, new: Report) -> list[str]:
    """Python, numpy, machine and each backend's versions and numerics that differ."""
    lines = [f"{key}: {old.environment.get(key)} -> {new.environment.get(key)}"
             for key in ("python", "numpy", "platform")
             if old.environment.get(key) != new.environment.get(key)]
    if old.complete != new.complete:
        lines.append(f"complete run: {old.complete} -> {new.complete}")
    was, now = old.environment.get("backends", {}), new.environment.get("backends", {})
    for backend in dict.fromkeys([*was, *now]):
        for part in ("versions", "numerics"):
            a, b = was.get(backend, {}).get(part, {}), now.get(backend, {}).get(part, {})
            lines += [f"{backend} {part} {name}: {a.get(name, '-')} -> {b.get(name, '-')}"
                      for name in dict.fromkeys([*a, *b]) if a.get(name) != b.get(name)]
    return lines


def text(found: Diff, old_name: str, new_name: str) -> str:
    """The diff for a terminal or a CI log, ending with one summary line."""
    lines = [f"gradparity diff {old_name} -> {new_name}"]
    sections = found.sections()
    for title, _, entries in sections:
        if entries:
            lines += ["", f"{title}:", *(f"  {e}" for e in entries)]
    regressions = _count(len(found.regressions), "regression") if found.regressions else (
        "no regression")
    others = ", ".join(_count(len(entries), one) for _, one, entries in sections[1:] if entries)
    return "\n".join([*lines, "", regressions + (f"; {others}" if others else "")])


def _count(n: int, one: str) -> str:
    """``1 case added``, ``2 cases added``, ``2 status changes``: the noun in plural."""
    if n == 1:
        return f"{n} {one}"
    first, _, rest = one.partition(" ")
    if first in ("case", "error", "regression"):
        return f"{n} {first}s" + (f" {rest}" if rest else "")
    return f"{n} {one}s"


def _verdict(result: Result) -> str:
    text = result.status.value
    if result.diagnoses:
        text += f" [{','.join(result.diagnoses)}]"
    if result.max_rel_error is not None and result.status is not Status.ERROR:
        text += f" {result.max_rel_error:.1e}"
    return text
