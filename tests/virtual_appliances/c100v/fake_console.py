"""A fake C100V serial console speaking the CONSOLE.md dialogs on a unix socket (no qemu).

It plays the guest side of the contract closely enough to exercise the wrapper's expect engine:
boot noise, the login prompt, the AsyncOS banner and prompt, ``sethostname``, ``interfaceconfig``,
``setgateway``, ``commit``, ``version``, ``exit``. Knobs make it misbehave the ways the engine must
handle: another password, an extra question, a question asked forever, boots that stay silent.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass, field


@dataclass
class Committed:
    hostname: str = "ironport.example.com"
    ip: str = "192.168.42.42"
    prefix: str = "24"
    gateway: str = ""
    ssh: bool = True
    https: bool = True
    api: bool = False
    extra_answer: str | None = None


@dataclass
class FakeConsole:
    password: str = "ironport"
    extra_question: str | None = None  # asked inside interfaceconfig, after the IPv6 question
    loop_question: bool = False  # re-ask the IPv4 address forever
    silent_boots: int = 0  # this many boots print nothing at all (a hung guest)
    echo_password: bool = False  # a guest that (wrongly) echoes the password, to test masking
    crossed_wake: float = 0.0  # a slow guest whose first login prompt crossed a wake CR: a second prompt and
    # each Password: prompt follow this many seconds late
    committed: Committed = field(default_factory=Committed)
    boots: int = 0
    commands: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._pending = Committed()
        self._writer: asyncio.StreamWriter | None = None
        self._lines: asyncio.Queue[str] = asyncio.Queue()
        self._session: asyncio.Task[None] | None = None
        self._echo = True
        self._server: asyncio.AbstractServer | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    # ---- server ----------------------------------------------------------------------------------
    async def start(self, path: str) -> None:
        self._server = await asyncio.start_unix_server(self._connected, path)

    async def stop(self) -> None:
        for task in [self._session, *self._tasks]:
            if task is not None:
                task.cancel()
        if self._writer is not None:
            self._writer.close()
        if self._server is not None:
            self._server.close()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._server.wait_closed(), 2)

    async def reboot(self) -> None:
        """What the monitor's ``system_reset`` does: the session is gone, the guest boots again."""
        if self._session is not None:
            self._session.cancel()
        self._lines = asyncio.Queue()
        self._session = asyncio.create_task(self._boot())

    async def _connected(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._writer = writer
        task = asyncio.create_task(self._read_keys(reader))
        self._tasks.add(task)
        await self.reboot()

    async def _read_keys(self, reader: asyncio.StreamReader) -> None:
        line = ""
        while data := await reader.read(1024):
            for char in data.decode(errors="replace"):
                if self.boots <= self.silent_boots:
                    continue  # a hung guest reads nothing
                if char == "\r":
                    self._write("\r\n" if self._echo or self.echo_password else "")
                    self._lines.put_nowait(line)
                    line = ""
                elif char != "\n":
                    line += char
                    if self._echo or self.echo_password:
                        self._write(char)

    # ---- guest behaviour ---------------------------------------------------------------------------
    def _write(self, text: str) -> None:
        if self._writer is not None and not self._writer.is_closing():
            self._writer.write(text.encode())

    async def _line(self) -> str:
        return await self._lines.get()

    async def _ask(self, question: str, default: str = "") -> str:
        self._write(f"\r\n{question}\r\n[{default}]> ")
        return (await self._line()).strip() or default

    async def _yes(self, question: str, default: str) -> bool:
        self._write(f"\r\n{question} [{default}]> ")
        return ((await self._line()).strip() or default).upper().startswith("Y")

    async def _boot(self) -> None:
        self.boots += 1
        if self.boots <= self.silent_boots:
            self._echo = False  # hung: not even an echo until the next reset
            await asyncio.Event().wait()
        self._echo = True
        self._write("SeaBIOS (version fake)\r\nBooting from Hard Disk...\r\nAsyncOS starting\r\n")
        crossed = self.crossed_wake > 0
        while True:
            self._write(f"\r\n{self.committed.hostname} login: ")
            if crossed:  # the CR that crossed the prompt: getty prints it again, late
                crossed = False
                await asyncio.sleep(self.crossed_wake)  # the slow guest's own pace, not a wait for anything
                continue
            user = (await self._line()).strip()
            if not user:
                continue  # a wake CR: print the prompt again
            await asyncio.sleep(self.crossed_wake)  # the slow guest's own pace
            self._write("Password: ")
            self._echo = False
            password = await self._line()
            self._echo = True
            if user != "admin" or password != self.password:
                self._write("Login incorrect\r\n")
                continue
            self._write("Last login: Mon Nov 23 10:00:00 2026 from serial console\r\n"
                        "AsyncOS 13.0.0 for Cisco C100V build 392\r\n\r\n"
                        "Welcome to the Cisco C100V Email Security Virtual Appliance\r\n\r\n"
                        "NOTE: This session will expire if left idle for 1440 minutes. Any uncommitted "
                        "configuration changes will be lost. Commit the configuration changes as soon as they "
                        "are made.\r\n\r\n")
            await self._shell()

    async def _shell(self) -> None:
        while True:
            self._write(f"{self.committed.hostname}> ")
            command = (await self._line()).strip()
            if not command:
                continue
            self.commands.append(command)
            if command == "exit":
                return
            handler = {"sethostname": self._sethostname, "interfaceconfig": self._interfaceconfig,
                       "setgateway": self._setgateway, "commit": self._commit, "version": self._version}.get(command)
            if handler is None:
                self._write("Unknown command or missing feature key\r\n")
            else:
                await handler()

    async def _sethostname(self) -> None:
        self._write(f"[{self.committed.hostname}]> ")
        self._pending.hostname = (await self._line()).strip() or self.committed.hostname

    async def _interfaceconfig(self) -> None:
        while True:
            self._write(f"\r\nCurrently configured interfaces:\r\n1. Management ({self._pending.ip}/"
                        f"{self._pending.prefix} on Management: {self._pending.hostname})\r\n\r\n"
                        "Choose the operation you want to perform:\r\n- NEW - Create a new interface.\r\n"
                        "- EDIT - Modify an interface.\r\n- DELETE - Remove an interface.\r\n[]> ")
            operation = (await self._line()).strip().upper()
            if not operation:
                return
            if operation != "EDIT":
                continue
            if await self._ask("Enter the number of the interface you wish to edit.") != "1":
                continue
            await self._ask('IP interface name (Ex: "InternalNet"):', "Management")
            await self._yes("Would you like to configure an IPv4 address for this interface (y/n)?", "Y")
            self._pending.ip = await self._ask("IPv4 Address (Ex: 192.168.1.2 ):", self._pending.ip)
            while self.loop_question:
                await self._ask("IPv4 Address (Ex: 192.168.1.2 ):", self._pending.ip)
            self._pending.prefix = await self._ask('Netmask (Ex: "24", "255.255.255.0" or "0xffffff00"):',
                                                   "0xffffff00")
            await self._yes("Would you like to configure an IPv6 address for this interface (y/n)?", "N")
            if self.extra_question:
                self._pending.extra_answer = await self._ask(self.extra_question, "frobnicate")
            await self._ask("Ethernet interface:\r\n1. Management", "1")
            self._pending.hostname = await self._ask("Hostname:", self._pending.hostname)
            self._pending.ssh = await self._yes("Do you want to enable SSH on this interface?", "Y")
            if self._pending.ssh:
                await self._ask("Which port do you want to use for SSH?", "22")
            self._pending.https = await self._yes("Do you want to enable HTTPS on this interface?", "Y")
            if self._pending.https:
                await self._ask("Which port do you want to use for HTTPS?", "443")
            self._pending.api = await self._yes("Do you want to enable AsyncOS API HTTPS on this interface?", "N")
            if self._pending.api:
                await self._ask("Which port do you want to use for AsyncOS API HTTPS?", "6443")
            await self._yes("The interface you edited might be the one you are currently logged into. Are you "
                            "sure you want to change it?", "Y")

    async def _setgateway(self) -> None:
        self._write("\r\nWarning: setting an incorrect default gateway may cause the current connection to be "
                    "interrupted when the changes are committed.")
        self._pending.gateway = await self._ask("Enter new default gateway:")

    async def _commit(self) -> None:
        if self._pending == self.committed:
            self._write("There is no data to commit.\r\n")
            return
        await self._ask("Please enter some comments describing your changes:")
        await self._yes("Do you want to save the current configuration for rollback?", "Y")
        self.committed = Committed(**vars(self._pending))
        self._write("\r\nChanges committed: Mon Nov 23 10:00:05 2026\r\n")

    async def _version(self) -> None:
        self._write("Current Version\r\n===============\r\nProduct: Cisco C100V Email Security Virtual Appliance"
                    "\r\nModel: C100V\r\nVersion: 13.0.0-392\r\nSerial #: FAKE-0001\r\n")
