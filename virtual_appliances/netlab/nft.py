"""Kernel drop rules with nftables, for a firewall that really black-holes packets.

Each lab owns one table, ``inet ctrlab_<pid>_<id>``, with a single output chain that drops TCP to the
dropped (address, port) pairs on ``lo``. The whole table is rewritten atomically on every change and
deleted when no drop is left, so a lab that stops (or resets) leaves nothing behind; the pid in the
name lets a later lab remove tables of labs that died without cleaning up.

``nft`` runs synchronously: it returns in milliseconds and ``NetLab.reset()`` is synchronous.
"""

from __future__ import annotations

import json
import logging
import os
import re
import secrets
import shutil
import subprocess
from collections.abc import Iterable

log = logging.getLogger("virtual_appliances.netlab")

NFT_TIMEOUT = 5.0
TABLE_PREFIX = "ctrlab_"
_OWNED = re.compile(rf"^{TABLE_PREFIX}(\d+)_[0-9a-f]+$")


class NftError(RuntimeError):
    pass


def _nft(*args: str, script: str | None = None) -> str:
    nft = shutil.which("nft")
    if nft is None:
        raise NftError("nft not found")
    try:
        done = subprocess.run([nft, *args], input=script, capture_output=True, text=True,
                              timeout=NFT_TIMEOUT, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise NftError(f"nft {' '.join(args)}: {exc}") from exc
    if done.returncode != 0:
        raise NftError(f"nft {' '.join(args)}: {done.stderr.strip()}")
    return done.stdout


def lab_tables() -> list[str]:
    """Names of the ``inet`` tables labs created (any process)."""
    listing = json.loads(_nft("-j", "list", "tables") or "{}")
    return [
        item["table"]["name"]
        for item in listing.get("nftables", [])
        if "table" in item and item["table"].get("family") == "inet"
        and item["table"]["name"].startswith(TABLE_PREFIX)
    ]


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class NftDropRules:
    def __init__(self, table: str) -> None:
        self.table = table
        self._installed = False

    @classmethod
    def create(cls) -> NftDropRules | None:
        """A rule set for this lab if the kernel firewall is usable here (root, nft, CAP_NET_ADMIN)."""
        if os.geteuid() != 0 or shutil.which("nft") is None:
            return None
        rules = cls(f"{TABLE_PREFIX}{os.getpid()}_{secrets.token_hex(4)}")
        try:
            stale = [t for t in lab_tables() if (m := _OWNED.match(t)) and not pid_alive(int(m.group(1)))]
            # One transaction proves we may change the ruleset and sweeps tables of dead labs.
            script = f"add table inet {rules.table}\ndelete table inet {rules.table}\n"
            script += "".join(f"delete table inet {t}\n" for t in stale)
            _nft("-f", "-", script=script)
        except (NftError, ValueError) as exc:
            log.info("kernel firewall unavailable, emulating drops in userspace: %s", exc)
            return None
        return rules

    def apply(self, drops: Iterable[tuple[str, int]]) -> None:
        """Make the table drop exactly these (address, port) pairs; no pairs -> no table."""
        drops = sorted(set(drops))
        if not drops:
            self.remove()
            return
        rules = "".join(f'    oifname "lo" ip daddr {addr} tcp dport {port} drop\n' for addr, port in drops)
        # add+delete first so the script works whether or not the table exists, all in one transaction.
        script = (
            f"add table inet {self.table}\n"
            f"delete table inet {self.table}\n"
            f"table inet {self.table} {{\n"
            "  chain output {\n"
            "    type filter hook output priority 0; policy accept;\n"
            f"{rules}"
            "  }\n"
            "}\n"
        )
        _nft("-f", "-", script=script)
        self._installed = True

    def remove(self) -> None:
        if not self._installed:
            return
        _nft("-f", "-", script=f"add table inet {self.table}\ndelete table inet {self.table}\n")
        self._installed = False
