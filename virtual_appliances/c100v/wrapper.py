"""The wrapper's lifecycle, in the foreground: start -> bootstrap -> healthy -> supervise -> stop.

Health file (vrnetlab): ``1 starting`` -> ``1 bootstrapping`` -> ``0 running`` once the CLI answers
over SSH through the forwarded port; re-checked every ``health_interval`` (``1 unhealthy: ...`` while
it does not answer); ``1 stopped`` after SIGTERM/SIGINT, ``1 failed: ...`` after a fatal error.
Touching the reset file resets the VM through the monitor and bootstraps it again.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import shutil
import signal
import socket
import sys
import tempfile
import time
from collections.abc import Coroutine
from pathlib import Path
from typing import Any, TypeVar

from .bootstrap import Bootstrapper, GuestNetwork
from .expect import BootstrapError, Expect, SerialConsole
from .health import CliReport, HealthFile, ProbeFailed, probe_cli
from .image import ImageError, check_base_image, create_overlay
from .masking import MaskedStream, Masker
from .qemu import KvmFailed, PortForward, QemuError, QemuVM, VmSpec
from .settings import DEFAULT_PASSWORD, GUEST_PORTS, Settings
from .testbed import (
    DeviceEntry,
    Endpoint,
    build_testbed,
    load_cloud_sections,
    password_field,
    remove_if_ours,
    render,
    write_atomically,
)

log = logging.getLogger("c100v")
T = TypeVar("T")

PROBE_RETRY_S = 2.0  # between SSH attempts while the services come up after the commit
SUPERVISE_TICK_S = 1.0  # how often the reset file and qemu's liveness are looked at
MAX_SOCKET_PATH = 100  # sun_path is 108 bytes on Linux


class WrapperError(Exception):
    pass


class Stopped(Exception):
    """SIGTERM/SIGINT arrived: unwind to the shutdown."""


class _MaskingFilter(logging.Filter):
    def __init__(self, masker: Masker) -> None:
        super().__init__()
        self.masker = masker

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg, record.args = self.masker(record.getMessage()), None
        return True


def setup_logging(log_file: Path, masker: Masker, debug: bool) -> None:
    formatter = logging.Formatter("%(asctime)s c100v %(levelname)s %(message)s")
    handlers: list[logging.Handler] = [logging.StreamHandler(sys.stderr), logging.FileHandler(log_file)]
    root = logging.getLogger("c100v")
    root.handlers.clear()
    root.setLevel(logging.DEBUG if debug else logging.INFO)
    root.propagate = False
    for handler in handlers:
        handler.setFormatter(formatter)
        handler.addFilter(_MaskingFilter(masker))
        root.addHandler(handler)
    logging.getLogger("asyncssh").setLevel(logging.WARNING)


def pick_ports(listen: str, wanted: dict[str, int]) -> dict[str, int]:
    """The requested host ports, free ones (kernel-chosen) where 0 was asked."""
    chosen: dict[str, int] = {}
    holders: list[socket.socket] = []
    try:
        for name, port in wanted.items():
            if port:
                chosen[name] = port
                continue
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            holders.append(sock)  # held until all are chosen, so two names never get the same port
            sock.bind((listen if listen not in ("", "0.0.0.0") else "127.0.0.1", 0))
            chosen[name] = sock.getsockname()[1]
    finally:
        for sock in holders:
            sock.close()
    return chosen


class Appliance:
    def __init__(self, settings: Settings, password: str, masker: Masker, stopping: asyncio.Event) -> None:
        self.s = settings
        self._password = password
        self.masker = masker
        self.stopping = stopping
        self.health = HealthFile(settings.health_file)
        self.vm: QemuVM | None = None
        self.console: SerialConsole | None = None
        self.console_log: MaskedStream | None = None
        self.expect: Expect | None = None
        self.drain: asyncio.Task[None] | None = None
        self.ports: dict[str, int] = {}
        self.socket_dir: Path | None = None  # a short temporary directory when the work dir's path is too long
        self.testbed_digest: str | None = None
        self.failure: str | None = None
        self.started = time.monotonic()

    # ---- lifecycle ------------------------------------------------------------------------------
    async def run(self) -> int:
        try:
            await self._until_stopped(self._start())
            await self._supervise()
        except Stopped:
            log.info("signal received: stopping")
        except (ImageError, QemuError, BootstrapError, WrapperError, ValueError, OSError) as exc:
            message = self.masker(str(exc))
            log.error("%s", message)
            self.failure = message.splitlines()[0]
        finally:
            await self._shutdown()
        return 1 if self.failure else 0

    async def _start(self) -> None:
        s = self.s
        self.health.set(1, "starting")
        deadline = time.monotonic() + s.boot_timeout
        base = check_base_image(s.image)
        cloud = load_cloud_sections(s.cloud_from) if s.cloud_from else None
        create_overlay(base, s.overlay)
        log.info("overlay %s on %s", s.overlay, base)
        self.ports = pick_ports(s.listen, s.host_ports)
        await self._launch(s.accel)
        try:
            report = await self._bootstrap_until_healthy(deadline)
        except KvmFailed as exc:
            if s.accel != "auto":
                raise
            # /dev/kvm opened but cannot run this guest (nested virtualization): TCG is slow but works.
            log.warning("%s\nstarting again with TCG (set QEMU_ACCEL=tcg to skip the KVM attempt)", exc)
            await self._stop_vm()
            create_overlay(base, s.overlay)
            await self._launch("tcg")
            report = await self._bootstrap_until_healthy(deadline)
        self._write_testbed(report, cloud)
        self.health.set(0, "running")
        log.info("%s is up after %.1f s (%s): ssh -p %d %s@%s; testbed %s", s.name, time.monotonic() - self.started,
                 self.vm.accel, self.ports["cli"], s.username, s.testbed_host, s.testbed_out)

    async def _launch(self, accel: str) -> None:
        s = self.s
        sockets = s.work_dir
        if len(str(sockets / "monitor.sock")) > MAX_SOCKET_PATH:
            self.socket_dir = sockets = Path(tempfile.mkdtemp(prefix="c100v-"))
        spec = VmSpec(name=s.name, overlay=s.overlay, console_socket=sockets / "console.sock",
                      monitor_socket=sockets / "monitor.sock", listen=s.listen, memory_mb=s.memory_mb, smp=s.smp,
                      accel=accel, cpu=s.cpu, extra_args=s.extra_qemu_args,
                      forwards=[PortForward(n, self.ports[n], GUEST_PORTS[n]) for n in GUEST_PORTS])
        self.vm = QemuVM(spec, s.work_dir / "qemu.log")
        await self.vm.start()
        if self.console_log is None:  # one console.log for the whole run, a TCG retry included
            self.console_log = MaskedStream(s.console_log.open("w", encoding="utf-8", errors="replace"), self.masker)
        self.console = await SerialConsole.open_unix(str(spec.console_socket), self.console_log)
        self.expect = Expect(self.console, self.masker, silence_timeout=s.silence_timeout,
                             wake_interval=s.wake_interval)

    async def _stop_vm(self) -> None:
        await self._stop_drain()
        if self.vm is not None:
            await self.vm.stop()
        if self.console is not None:
            self.console.close()
            self.console = None

    async def _bootstrap_until_healthy(self, deadline: float) -> CliReport:
        assert self.vm is not None and self.expect is not None
        self.health.set(1, "bootstrapping")
        boot = Bootstrapper(self.expect, self.s.dialogs, GuestNetwork(self.s.hostname), self.s.username,
                            self._password, restart=self.vm.reset, max_restarts=self.s.max_restarts,
                            login_timeout=self.s.boot_timeout)
        try:
            # The watch raises as soon as qemu exits or KVM fails, instead of after the silence timeout.
            prompt = await _first(boot.run(deadline), self.vm.watch())
        except BootstrapError as exc:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.vm.wait(), 2.0)  # a closed console usually means qemu is exiting
            if not self.vm.running:
                status = self.vm.process.returncode if self.vm.process else "?"
                raise WrapperError(f"{exc}\nqemu exited (status {status}); qemu.log:\n{self.vm.log_tail()}") from None
            raise
        log.info("bootstrap done in %.1f s (prompt %r, %d restart(s)); waiting for the CLI over SSH",
                 time.monotonic() - self.started, prompt, boot.restarts)
        self._start_drain()
        return await self._wait_for_cli(deadline)

    async def _wait_for_cli(self, deadline: float) -> CliReport:
        last: ProbeFailed | None = None
        while True:
            self._check_vm()
            left = deadline - time.monotonic()
            if left <= 0:
                raise WrapperError(f"the CLI did not answer over SSH before the boot deadline: {last}")
            try:
                return await self._probe(min(20.0, left))
            except ProbeFailed as exc:
                last = exc
                log.debug("not yet: %s", exc)
            await self._pause(min(PROBE_RETRY_S, max(0.0, deadline - time.monotonic())))

    async def _supervise(self) -> None:
        next_probe = time.monotonic() + self.s.health_interval
        while True:
            await self._pause(SUPERVISE_TICK_S)
            self._check_vm()
            if self.s.reset_file.exists():
                with contextlib.suppress(OSError):
                    self.s.reset_file.unlink()
                await self._until_stopped(self._reset())
                next_probe = time.monotonic() + self.s.health_interval
            if time.monotonic() >= next_probe:
                try:
                    await self._until_stopped(self._probe(20.0))
                    self.health.set(0, "running")
                except ProbeFailed as exc:
                    log.warning("health: %s", exc)
                    self.health.set(1, f"unhealthy: {exc}")
                next_probe = time.monotonic() + self.s.health_interval

    async def _reset(self) -> None:
        assert self.vm is not None and self.expect is not None
        log.warning("reset requested (%s): resetting and bootstrapping again", self.s.reset_file)
        self.health.set(1, "resetting")
        await self._stop_drain()
        await self.vm.reset()
        self.expect.reset()
        await self._bootstrap_until_healthy(time.monotonic() + self.s.boot_timeout)
        self.health.set(0, "running")
        log.info("%s is up again", self.s.name)

    async def _shutdown(self) -> None:
        if self.failure is None:
            self.health.set(1, "stopping")
        await self._stop_vm()
        if self.console_log is not None:
            self.console_log.close()
        for name in ("console.sock", "monitor.sock"):
            with contextlib.suppress(OSError):
                ((self.socket_dir or self.s.work_dir) / name).unlink()
        if self.socket_dir is not None:
            shutil.rmtree(self.socket_dir, ignore_errors=True)
        if not self.s.keep_overlay:
            with contextlib.suppress(FileNotFoundError):
                self.s.overlay.unlink()
        remove_if_ours(self.s.testbed_out, self.testbed_digest)
        self.health.set(1, f"failed: {self.failure}" if self.failure else "stopped")
        log.info("stopped")

    # ---- pieces -----------------------------------------------------------------------------------
    async def _probe(self, timeout: float) -> CliReport:
        return await probe_cli(self.s.testbed_host, self.ports["cli"], self.s.username, self._password, timeout)

    def _write_testbed(self, report: CliReport, cloud: dict[str, Any] | None) -> None:
        s = self.s
        version = s.version or report.version
        if version is None:
            raise WrapperError("the appliance's `version` shows no Version: line: pass --version X.Y.Z-NNN")
        if s.version and report.version and s.version != report.version:
            log.warning("--version %s but the appliance reports %s (PRE-5 will notice)", s.version, report.version)
        if report.model != "C100V":
            log.warning("the appliance reports model %r, not C100V", report.model)
        if s.password_env is None and s.listen not in ("127.0.0.1", "::1", "localhost"):
            log.warning("the appliance listens on %s with its well-known default password: set your own "
                        "(docs/c100v.md) before exposing it", s.listen)
        host = s.testbed_host
        device = DeviceEntry(
            name=s.name, hostname=s.hostname, version=version, username=s.username,
            password_value=password_field(s.password_env, DEFAULT_PASSWORD), model=report.model or "C100V",
            cli=Endpoint(host, self.ports["cli"]), gui=Endpoint(host, self.ports["gui"]),
            api=Endpoint(host, self.ports["api"]), smtp=Endpoint(host, self.ports["smtp"]),
            host_keys=(report.host_key,) if report.host_key else ())
        text = render(build_testbed(device, s.region, cloud), s.name, placeholder_cloud=cloud is None)
        if self._password != DEFAULT_PASSWORD and self._password in text:
            raise WrapperError("refusing to write a testbed holding the password in clear")  # belt and braces
        self.testbed_digest = write_atomically(s.testbed_out, text)

    def _check_vm(self) -> None:
        if self.vm is not None and not self.vm.running:
            status = self.vm.process.returncode if self.vm.process else "?"
            raise WrapperError(f"qemu exited unexpectedly (status {status}); qemu.log:\n{self.vm.log_tail()}")

    def _start_drain(self) -> None:
        # Keep reading the console after the bootstrap: into console.log, and so that a guest writing
        # to a full serial port never stalls.
        async def drain() -> None:
            assert self.console is not None
            while await self.console.read(60.0) is not None:
                pass

        self.drain = asyncio.create_task(drain())

    async def _stop_drain(self) -> None:
        if self.drain is not None:
            self.drain.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self.drain
            self.drain = None

    async def _pause(self, seconds: float) -> None:
        """Wait ``seconds`` unless a stop signal comes first (then raise Stopped)."""
        try:
            await asyncio.wait_for(self.stopping.wait(), seconds)
        except TimeoutError:
            return
        raise Stopped

    async def _until_stopped(self, coro: Coroutine[Any, Any, T]) -> T:
        task = asyncio.ensure_future(coro)
        stop = asyncio.ensure_future(self.stopping.wait())
        try:
            await asyncio.wait({task, stop}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            stop.cancel()
        if task.done():
            return task.result()
        task.cancel()
        with contextlib.suppress(BaseException):
            await task
        raise Stopped


async def _first(main: Coroutine[Any, Any, T], guard: Coroutine[Any, Any, Any]) -> T:
    """The result of ``main``, unless ``guard`` raises first (it never returns normally)."""
    main_task, guard_task = asyncio.ensure_future(main), asyncio.ensure_future(guard)
    try:
        await asyncio.wait({main_task, guard_task}, return_when=asyncio.FIRST_COMPLETED)
        if main_task.done():
            return main_task.result()
        guard_task.result()  # raises what the guard raised
        raise RuntimeError("guard returned")  # pragma: no cover
    finally:
        for task in (main_task, guard_task):
            if not task.done():
                task.cancel()
                with contextlib.suppress(BaseException):
                    await task


async def _main(settings: Settings, password: str, masker: Masker) -> int:
    loop = asyncio.get_running_loop()
    stopping = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stopping.set)
    return await Appliance(settings, password, masker, stopping).run()


def run_wrapper(settings: Settings, password: str, *, debug: bool = False) -> int:
    settings.work_dir.mkdir(parents=True, exist_ok=True)
    # The documented first-boot password is public (it is in the testbed in clear, and a substring of the
    # factory hostname ironport.example.com): masking it would only garble the logs. Any other is masked.
    masker = Masker([] if password == DEFAULT_PASSWORD else [password])
    setup_logging(settings.work_dir / "wrapper.log", masker, debug)
    return asyncio.run(_main(settings, password, masker))
