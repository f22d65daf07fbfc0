"""Backends (provisioners): ``sim`` starts the bundled simulators, ``lab`` reads the testbed of real gear.

Installed backends are found through the ``ctrlab.backends`` entry point group; tests and plugins can
also :func:`register_backend` one programmatically.
"""

from .base import Backend, BackendError, BackendOptions
from .registry import ENTRY_POINT_GROUP, available_backends, get_backend, register_backend, unregister_backend

__all__ = ["ENTRY_POINT_GROUP", "Backend", "BackendError", "BackendOptions", "available_backends", "get_backend",
           "register_backend", "unregister_backend"]
