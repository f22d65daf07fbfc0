"""A small fake AsyncOS SSH CLI for driver tests: the conventions the driver must cope with, nothing
else (pager, sub-prompts, commit's optional rollback question, cluster prompts, unknown commands,
a session that drops mid-dialog, a command that never answers, SSH exec batches)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

import asyncssh

PASSWORD = "fake-Passw0rd!"
HOSTNAME = "fake1.example.com"
BANNER = (
    "Last login: Mon Apr 22 11:33:45 2019 from 10.123.123.123\r\n"
    "AsyncOS 13.0.0 for Cisco C100V build 392\r\n\r\n"
    "Welcome to the Cisco C100V Email Security Virtual Appliance\r\n\r\n"
    "NOTE: This session will expire if left idle for 1440 minutes. Any uncommitted configuration changes will be "
    "lost. Commit the configuration changes as soon as they are made.\r\n\r\n"
)
PAGER = "-Press Any Key For More-"
ERASE = "\r" + " " * 25 + "\r"


@dataclass
class FakeState:
    rollback_question: bool = True  # newer releases ask it after the comment
    commits: list[str] = field(default_factory=list)
    logins: int = 0
    sessions: list[asyncssh.SSHServerProcess] = field(default_factory=list)


class PasswordServer(asyncssh.SSHServer):
    """An SSH server that always asks for a password and takes one user name and password (test fakes)."""

    def __init__(self, username: str = "admin", password: str = PASSWORD) -> None:
        self._username, self._password = username, password

    def begin_auth(self, username: str) -> bool:
        return True

    def password_auth_supported(self) -> bool:
        return True

    def validate_password(self, username: str, password: str) -> bool:
        return username == self._username and password == self._password


class FakeCli:
    def __init__(self, state: FakeState) -> None:
        self.state = state

    async def handle(self, process: asyncssh.SSHServerProcess) -> None:
        self.state.logins += 1
        self.state.sessions.append(process)
        try:
            if process.command is not None:
                await self.batch(process)
            else:
                await self.interactive(process)
        except (asyncssh.BreakReceived, asyncssh.TerminalSizeChanged, BrokenPipeError, ConnectionError):
            pass
        finally:
            process.exit(0)

    async def batch(self, process: asyncssh.SSHServerProcess) -> None:
        status = 0
        for command in (c.strip() for c in process.command.split(";")):
            if command == "version":
                process.stdout.write("Version: 13.0.0-392\n")
            elif command.startswith("commit"):
                process.stdout.write("Changes committed: Mon Nov 19 10:04:35 2018 GMT\n")
            else:
                process.stdout.write(f"Unknown command or missing feature key: {command}\n")
                status = 1
        process.exit(status)

    async def interactive(self, process: asyncssh.SSHServerProcess) -> None:
        prompt = f"{HOSTNAME}> "
        out = process.stdout
        out.write(BANNER + prompt)
        while True:
            line = await process.stdin.readline()
            if not line:
                return
            command = line.strip()
            if command == "":
                pass
            elif command == "version":
                out.write("Current Version\r\n===============\r\n"
                          "Product: Cisco C100V Email Security Virtual Appliance\r\nModel: C100V\r\n" + PAGER)
                await self.any_key(process)
                out.write(ERASE + "Version: 13.0.0-392\r\nBuild Date: 2019-11-11\r\n")
            elif command == "longlist":
                for chunk in range(3):
                    out.write("".join(f"entry {chunk * 40 + i}\r\n" for i in range(40)) + PAGER)
                    await self.any_key(process)
                    out.write(ERASE)
                out.write("end of list\r\n")
            elif command == "commit":
                out.write("\r\nPlease enter some comments describing your changes:\r\n[]> ")
                comment = (await process.stdin.readline()).strip()
                if self.state.rollback_question:
                    out.write("\r\nDo you want to save the current configuration for rollback? [Y]> ")
                    await process.stdin.readline()
                self.state.commits.append(comment)
                out.write("\r\nChanges committed: Mon Nov 19 10:04:35 2018 GMT\r\n")
            elif command == "cloudserviceconfig":
                out.write("\r\nChoose the operation you want to perform:\r\n"
                          "- REGISTER - To register the appliance with the Cisco Threat Response portal.\r\n"
                          "-SETTRS - Set the Threat Response Server to connect to the Cisco Threat Response portal.\r\n"
                          "[]> ")
                op = (await process.stdin.readline()).strip().lower()
                if op == "register":
                    out.write("\r\nEnter a registration token key to register your appliance with the Cisco Threat\r\n"
                              "Response portal.\r\n[]> ")
                    await process.stdin.readline()
                    out.write("\r\nThe appliance registration is in progress.\r\n")
            elif command == "deregister":
                out.write("\r\nIf you deregister, you will not be able to access the Cloud Service features. [N]> ")
                answer = (await process.stdin.readline()).strip()
                out.write("\r\nDeregistration is in progress.\r\n" if answer.lower().startswith("y") else "\r\n")
            elif command == "certname":
                out.write("Enter a name for this certificate profile:\r\n> ")
                name = (await process.stdin.readline()).strip()
                out.write(f"\r\nProfile {name} created.\r\n")
            elif command == "clustermode cluster":
                prompt = "(Cluster FakeCluster)> "
            elif command == "clustermode machine":
                prompt = f"(Machine {HOSTNAME})> "
            elif command == "drop":
                out.write("Working...\r\n")
                await out.drain()
                process.channel.get_extra_info("connection").abort()
                return
            elif command == "logout-soon":  # the appliance ends the idle session after the prompt
                out.write("\r\n" + prompt)
                asyncio.get_running_loop().call_later(0.05, process.channel.get_extra_info("connection").close)
                continue
            elif command == "hang":
                await asyncio.sleep(3600)
            elif command == "greaterthan":
                out.write("a -> b\r\nx > y\r\n")
            else:
                out.write(f"Unknown command or missing feature key: {command}\r\n")
            out.write("\r\n" + prompt)

    @staticmethod
    async def any_key(process: asyncssh.SSHServerProcess) -> None:
        process.channel.set_line_mode(False)
        process.channel.set_echo(False)
        try:
            await process.stdin.read(1)
        finally:
            process.channel.set_line_mode(True)
            process.channel.set_echo(True)


async def start_fake(state: FakeState, host_key: asyncssh.SSHKey) -> asyncssh.SSHAcceptor:
    cli = FakeCli(state)
    return await asyncssh.create_server(PasswordServer, "127.0.0.1", 0, server_host_keys=[host_key],
                                        process_factory=cli.handle, encoding="utf-8")
