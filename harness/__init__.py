"""ctrlab's pluggable harness: testbed, backends, drivers, pytest plugin and reporting.

Nothing here imports ``virtual_appliances``: the harness reaches appliances and the cloud only over
the protocols a real lab speaks (SSH, HTTPS, SMTP, DNS).
"""

from . import dependency_warnings

dependency_warnings.install()  # before any module of the harness imports asyncssh
