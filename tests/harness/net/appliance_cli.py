"""A minimal AsyncOS-like SSH CLI that serves only the network commands (dig, nslookup, telnet) from
``virtual_appliances.asyncos.net_commands``, standing where the lab's appliance stands.

It exists so the harness side (``harness.net.appliance_probe`` over the real SSH driver) is tested
end to end before the commands are wired into the lab's own CLI dispatcher; it does what that wiring
does: await ``run_line`` for a network command and print the result before the next prompt.
"""

from __future__ import annotations

from functools import partial

import asyncssh

from tests.support.fake_asyncos import PasswordServer
from virtual_appliances.asyncos.net_commands import Vantage, is_net_command, run_line

USERNAME = "admin"
PASSWORD = "net-Passw0rd!"
HOSTNAME = "esa1.net.ctrlab.test"
BANNER = ("AsyncOS 13.0.0 for Cisco C100V build 392\r\n\r\n"
          "Welcome to the Cisco C100V Email Security Virtual Appliance\r\n\r\n")


async def start_cli(vantage: Vantage, host_key: asyncssh.SSHKey) -> asyncssh.SSHAcceptor:
    async def handle(process: asyncssh.SSHServerProcess[str]) -> None:
        prompt = f"{HOSTNAME}> "
        process.stdout.write(BANNER + prompt)
        try:
            while line := await process.stdin.readline():
                command = line.strip()
                if command in ("exit", "quit"):
                    break
                if is_net_command(command):
                    _ok, text = await run_line(command, vantage)
                    process.stdout.write(text.replace("\n", "\r\n"))
                elif command:
                    process.stdout.write(f"\r\nUnknown command or missing feature key: {command}\r\n")
                process.stdout.write("\r\n" + prompt)
        except (asyncssh.Error, OSError):
            pass
        finally:
            process.exit(0)

    return await asyncssh.create_server(partial(PasswordServer, USERNAME, PASSWORD), "127.0.0.1", 0,
                                        server_host_keys=[host_key],
                                        process_factory=handle, encoding="utf-8")
