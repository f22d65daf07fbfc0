"""Bundled simulators of the appliances, the cloud and the network between them.

Nothing in this package imports ``harness``: the harness reaches the simulators only over the
protocols a real lab speaks (SSH, HTTPS, SMTP, DNS).
"""

__version__ = "0.1.0"
