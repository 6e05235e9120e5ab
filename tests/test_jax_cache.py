"""JAX's persistent compilation cache: where it lives, how to turn it off, that it is used."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from backends.jax_backend import CACHE_ENV, compilation_cache_dir

ROOT = Path(__file__).resolve().parents[1]
#: Prepares and calls one starter spec on JAX in a fresh process (the cache is process-global).
ONE_CASE = ("from backends import load; from conformance.catalog.starter import starter_specs; "
            "spec = starter_specs()[0]; load('jax').prepare(spec)(spec.cast()); "
            "print(load('jax').numerics()['compilation_cache'])")


def test_the_cache_directory_follows_xdg_and_can_be_named_or_turned_off(monkeypatch,
                                                                          tmp_path) -> None:
    monkeypatch.delenv(CACHE_ENV, raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert compilation_cache_dir() == str(tmp_path / "xdg" / "gradparity" / "jax")
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert compilation_cache_dir() == str(tmp_path / "home" / ".cache" / "gradparity" / "jax")
    monkeypatch.setenv(CACHE_ENV, str(tmp_path / "mine"))
    assert compilation_cache_dir() == str(tmp_path / "mine")
    for off in ("off", "0", "OFF"):
        monkeypatch.setenv(CACHE_ENV, off)
        assert compilation_cache_dir() is None


def run_one_case(cache: str) -> str:
    env = {**os.environ, CACHE_ENV: cache, "PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, "-c", ONE_CASE], env=env, capture_output=True,
                          text=True, timeout=300, check=True)
    return done.stdout.strip().splitlines()[-1]


def test_compiled_programs_are_written_to_the_cache_unless_it_is_off(backend, tmp_path) -> None:
    backend("jax")
    cache = tmp_path / "jax-cache"
    assert run_one_case(str(cache)) == "on"
    assert any(cache.iterdir())  # the compiled program, stored for the next run
    assert run_one_case("off") == "off"
