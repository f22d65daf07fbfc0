"""Silence the known warnings a dependency prints that say nothing about the user's lab, and only those.

asyncssh still names cryptography's DSA classes, and cryptography 43+ warns on each access
(``CryptographyDeprecationWarning: DSA is deprecated``): ten lines on every ``ctrlab`` command and pytest
summary that say nothing about the user's lab. The filter matches that message, that category and
warnings raised from asyncssh's own modules: any other warning (ours, or another library's) still shows.
pytest gets the same filter from ``filterwarnings`` in pyproject.toml, for warnings raised inside tests.
"""

from __future__ import annotations

import warnings

DSA_MESSAGE = "DSA is deprecated"
ASYNCSSH_MODULES = r"asyncssh(\.|$)"
# System CA bundles still carry legacy certificates with a non-positive serial number; cryptography warns
# when the testbed's ca_bundle is read (harness.testbed checks it is a PEM bundle). Not the user's to fix.
SERIAL_MESSAGE = "Parsed a serial number which wasn't positive"
TESTBED_MODULES = r"harness\.testbed(\.|$)"


def install() -> None:
    """Add the filter; call it before asyncssh is imported (``harness/__init__`` does)."""
    try:
        from cryptography.utils import CryptographyDeprecationWarning
    except ImportError:  # no cryptography, no such warning
        return
    warnings.filterwarnings("ignore", message=DSA_MESSAGE, category=CryptographyDeprecationWarning,
                            module=ASYNCSSH_MODULES)
    warnings.filterwarnings("ignore", message=SERIAL_MESSAGE, category=CryptographyDeprecationWarning,
                            module=TESTBED_MODULES)
