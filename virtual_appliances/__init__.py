"""Bundled simulators of the appliances, the cloud and the network between them.

Nothing in this package imports ``harness``: the harness reaches the simulators only over the
protocols a real lab speaks (SSH, HTTPS, SMTP, DNS).
"""

__version__ = "0.1.0"

# asyncssh names cryptography's deprecated DSA classes: silence that one warning, from asyncssh only
# (the harness does the same in harness/dependency_warnings.py; the simulators do not import it).
try:
    import warnings as _warnings

    from cryptography.utils import CryptographyDeprecationWarning as _Dsa

    _warnings.filterwarnings("ignore", message="DSA is deprecated", category=_Dsa, module=r"asyncssh(\.|$)")
except ImportError:  # pragma: no cover - cryptography is a dependency
    pass
