"""Backends by name: installed ones through the ``ctrlab.backends`` entry point group, plus any
registered programmatically (a test's fake backend, a plugin's backend)."""

from __future__ import annotations

import importlib.metadata
import threading

from .base import Backend, BackendError

ENTRY_POINT_GROUP = "ctrlab.backends"

_registered: dict[str, type[Backend]] = {}
_lock = threading.Lock()


def register_backend(name: str, backend: type[Backend]) -> None:
    """Make ``backend`` available as ``--backend name`` (overrides an installed one of that name)."""
    if not (isinstance(backend, type) and issubclass(backend, Backend)):
        raise TypeError(f"backend {name!r} must be a subclass of harness.backends.Backend, got {backend!r}")
    with _lock:
        _registered[name] = backend


def unregister_backend(name: str) -> None:
    with _lock:
        _registered.pop(name, None)


def _entry_points() -> dict[str, importlib.metadata.EntryPoint]:
    return {ep.name: ep for ep in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP)}


def available_backends() -> list[str]:
    with _lock:
        names = set(_registered)
    return sorted(names | set(_entry_points()))


def get_backend(name: str) -> type[Backend]:
    """The backend class called ``name``; a clear :class:`BackendError` when there is none."""
    with _lock:
        if name in _registered:
            return _registered[name]
    entry = _entry_points().get(name)
    if entry is None:
        raise BackendError(f"unknown backend {name!r} (available: {', '.join(available_backends()) or 'none'})")
    try:
        loaded = entry.load()
    except Exception as exc:  # a broken plugin: say which one
        raise BackendError(f"backend {name!r} ({entry.value}) cannot be loaded: {exc}") from exc
    if not (isinstance(loaded, type) and issubclass(loaded, Backend)):
        raise BackendError(f"backend {name!r} ({entry.value}) is not a harness.backends.Backend subclass")
    return loaded
