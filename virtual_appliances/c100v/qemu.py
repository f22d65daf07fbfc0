"""qemu-system-x86_64 for one C100V: the command line, the process, and the HMP monitor.

Management is qemu user networking (the guest at 10.0.2.15 behind qemu's NAT) with host port
forwards bound to ``listen``; the serial console is a unix socket qemu waits on (``wait=on``), so no
boot output is lost before the wrapper connects; the monitor is another unix socket.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import shlex
import signal
import time
from dataclasses import dataclass, field
from pathlib import Path

log = logging.getLogger("c100v.qemu")

GUEST_IP = "10.0.2.15"
MONITOR_PROMPT = b"(qemu) "


KVM_FAILURE = "KVM internal error"  # qemu pauses the guest after this; the console just goes silent


class QemuError(Exception):
    pass


class KvmFailed(QemuError):
    """KVM could not run the guest (typically nested virtualization without unrestricted guest mode)."""


@dataclass(frozen=True)
class PortForward:
    name: str  # cli | gui | api | smtp (the testbed's connection names)
    host_port: int
    guest_port: int


@dataclass(frozen=True)
class VmSpec:
    name: str
    overlay: Path
    console_socket: Path
    monitor_socket: Path
    forwards: list[PortForward]
    listen: str = "127.0.0.1"
    memory_mb: int = 8192
    smp: int = 2
    accel: str = "auto"  # auto | kvm | tcg
    cpu: str | None = None  # default: the host's CPU under kvm, max under tcg
    extra_args: list[str] = field(default_factory=list)


def kvm_usable() -> tuple[bool, str]:
    """Whether this process can open /dev/kvm read-write (existing is not enough: permissions, containers)."""
    try:
        fd = os.open("/dev/kvm", os.O_RDWR | os.O_CLOEXEC)
    except OSError as exc:
        return False, f"/dev/kvm: {exc.strerror}"
    os.close(fd)
    # kvm_pvm (pagetable-based nested virtualization, some cloud VMs) runs only PVM-aware guest kernels:
    # an ordinary guest hangs or fails right after the boot loader.
    if Path("/sys/module/kvm_pvm").exists():
        return False, "/dev/kvm is served by kvm_pvm, which runs only PVM-aware guests"
    return True, "/dev/kvm usable"


def choose_accel(requested: str) -> str:
    if requested not in ("auto", "kvm", "tcg"):
        raise QemuError(f"accelerator {requested!r}: use kvm, tcg or auto")
    usable, why = kvm_usable()
    if requested == "kvm" and not usable:
        raise QemuError(f"KVM was asked for but {why} (in docker: --device /dev/kvm; or use QEMU_ACCEL=tcg)")
    if requested == "tcg" or not usable:
        note = "forced by QEMU_ACCEL/--accel" if requested == "tcg" else why
        log.warning("using TCG software emulation (%s): expect a boot many times slower than with KVM", note)
        return "tcg"
    return "kvm"


def qemu_command(spec: VmSpec, accel: str) -> list[str]:
    hostfwd = ",".join(f"hostfwd=tcp:{spec.listen}:{f.host_port}-{GUEST_IP}:{f.guest_port}" for f in spec.forwards)
    # Why not plain "host": under nested KVM (a cloud VM) qemu 7.x aborts setting the ARCH_CAPABILITIES
    # MSR ("failed to set MSR 0x10a"); the guest does not need that feature. QEMU_CPU overrides.
    cpu = spec.cpu or ("host,-arch-capabilities" if accel == "kvm" else "max")
    return [
        "qemu-system-x86_64", "-name", f"c100v-{spec.name}",
        "-machine", "pc", "-accel", accel, "-cpu", cpu, "-m", str(spec.memory_mb), "-smp", str(spec.smp),
        "-drive", f"file={spec.overlay},if=virtio,format=qcow2",
        "-netdev", f"user,id=mgmt,net=10.0.2.0/24,{hostfwd}", "-device", "virtio-net-pci,netdev=mgmt",
        "-chardev", f"socket,id=console,path={spec.console_socket},server=on,wait=on",
        "-serial", "chardev:console",
        "-monitor", f"unix:{spec.monitor_socket},server=on,wait=off",
        "-display", "none", "-no-user-config",
        *spec.extra_args,
    ]


class QemuVM:
    """One qemu process; ``stop()`` is safe at any point and twice."""

    def __init__(self, spec: VmSpec, qemu_log: Path) -> None:
        self.spec = spec
        self.qemu_log = qemu_log
        self.accel = ""
        self.process: asyncio.subprocess.Process | None = None

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.returncode is None

    def kvm_failed(self) -> bool:
        try:
            return KVM_FAILURE in self.qemu_log.read_text(errors="replace")
        except OSError:
            return False

    async def watch(self, interval: float = 0.5) -> None:
        """Return never; raise when qemu exits or reports a KVM failure (polled: qemu.log is a file)."""
        while True:
            if not self.running:
                status = self.process.returncode if self.process else "?"
                raise QemuError(f"qemu exited (status {status}); qemu.log:\n{self.log_tail()}")
            if self.kvm_failed():
                raise KvmFailed(f"KVM could not run the guest; qemu.log:\n{self.log_tail(6)}")
            with contextlib.suppress(TimeoutError):
                assert self.process is not None
                await asyncio.wait_for(self.process.wait(), interval)

    def log_tail(self, lines: int = 15) -> str:
        try:
            return "\n".join(self.qemu_log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    async def start(self, socket_timeout: float = 30.0) -> None:
        self.accel = choose_accel(self.spec.accel)
        self.qemu_log.write_bytes(b"")  # kvm_failed() looks at this run only
        for sock in (self.spec.console_socket, self.spec.monitor_socket):
            with contextlib.suppress(FileNotFoundError):
                sock.unlink()  # a stale socket from a killed run would look like qemu's
        command = qemu_command(self.spec, self.accel)
        log.info("starting qemu (%s, %d MB, %d vCPU): %s", self.accel, self.spec.memory_mb, self.spec.smp,
                 shlex.join(command))
        with self.qemu_log.open("ab") as out:
            try:
                # Own session: a Ctrl-C in the terminal reaches the wrapper, which then quits qemu cleanly.
                self.process = await asyncio.create_subprocess_exec(
                    *command, stdin=asyncio.subprocess.DEVNULL, stdout=out, stderr=asyncio.subprocess.STDOUT,
                    start_new_session=True)
            except FileNotFoundError:
                raise QemuError("qemu-system-x86_64 is not installed (apt-get install qemu-system-x86)") from None
        deadline = time.monotonic() + socket_timeout
        while not self.spec.console_socket.exists():
            if not self.running:
                raise QemuError(f"qemu exited (status {self.process.returncode}) before opening its console:\n"
                                f"{self.log_tail()}")
            if time.monotonic() > deadline:
                raise QemuError(f"qemu opened no console socket within {socket_timeout:g} s:\n{self.log_tail()}")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.process.wait(), 0.05)  # poll: returns early if qemu dies

    async def wait(self) -> int:
        assert self.process is not None
        return await self.process.wait()

    async def monitor(self, command: str, timeout: float = 10.0) -> str:
        """One HMP command over the monitor socket; returns what qemu answered."""
        reader, writer = await asyncio.wait_for(asyncio.open_unix_connection(str(self.spec.monitor_socket)), timeout)
        try:
            async with asyncio.timeout(timeout):
                await reader.readuntil(MONITOR_PROMPT)  # the banner
                writer.write(command.encode() + b"\n")
                await writer.drain()
                try:
                    answer = await reader.readuntil(MONITOR_PROMPT)
                except asyncio.IncompleteReadError as exc:
                    answer = exc.partial  # "quit" closes the socket instead of prompting again
            return answer.decode(errors="replace")
        finally:
            writer.close()

    async def reset(self) -> None:
        log.warning("resetting the VM (monitor system_reset)")
        await self.monitor("system_reset")

    async def stop(self, grace: float = 15.0) -> None:
        """Monitor ``quit``, then SIGTERM, then SIGKILL, each with a bounded wait."""
        if self.process is None or self.process.returncode is not None:
            return
        with contextlib.suppress(OSError, TimeoutError, asyncio.IncompleteReadError):
            await self.monitor("quit", timeout=5.0)
        for sig, wait in ((None, grace), (signal.SIGTERM, 5.0), (signal.SIGKILL, 5.0)):
            if sig is not None:
                log.warning("qemu still running: sending %s", sig.name)
                with contextlib.suppress(ProcessLookupError):
                    self.process.send_signal(sig)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.process.wait(), wait)
                break
        log.info("qemu stopped (status %s)", self.process.returncode)
