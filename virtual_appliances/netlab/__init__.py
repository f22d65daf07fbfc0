"""The network between the appliances and the cloud: addresses, DNS, TLS sites, firewall, proxy.

See ``lab.NetLab`` for the whole, ``client.lab_session`` for simulators that call the cloud through
it, and ``control`` for the control plane mounted at ``/_sim/netlab``.
"""

from .firewall import Action
from .network import NetLab, NetLabError, UnknownFqdn

__all__ = ["Action", "NetLab", "NetLabError", "UnknownFqdn"]
