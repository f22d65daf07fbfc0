"""One pytest session's harness state: options, the backend, the masker, the provisioned lab.

The plugin creates it at configure time (cheap: no lab, no heavy imports) and stores it on the config;
the fixtures provision the lab from it on first use, so ``pytest tests`` never starts a lab.
"""

from __future__ import annotations

import contextlib
import importlib.metadata
import platform
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from .report.masking import Masker

if TYPE_CHECKING:
    from .backends import Backend
    from .provisioned_lab import Lab
    from .testbed import Testbed

SESSION_KEY = pytest.StashKey["CtrlabSession"]()
DEFAULT_APPLIANCES = 2  # multi-appliance scenarios (cluster, fleets) need more than one


@dataclass(frozen=True)
class Options:
    testbed: Path | None  # the lab this process runs on: with several --testbed, an xdist worker's own
    backend: str
    allow_destructive: bool
    region: str | None
    sim_appliances: int
    req_url_pattern: str
    reports_dir: Path
    rootpath: Path
    testbeds: tuple[Path, ...] = ()  # every --testbed given: one lab per group of xdist workers
    lab_index: int = 0  # which of them ``testbed`` is (harness.session.worker_lab)

    @property
    def several_labs(self) -> bool:
        """--testbed given once per lab (for pytest-xdist workers)."""
        return len(self.testbeds) > 1

    @classmethod
    def from_config(cls, config: pytest.Config) -> Options:
        testbeds = tuple(Path(p) for p in config.getoption("ctrlab_testbed") or ())
        backend = config.getoption("ctrlab_backend") or ("lab" if testbeds else "sim")
        reports = Path(config.getini("ctrlab_reports_dir") or "reports")
        lab_index = worker_lab(config, len(testbeds))
        return cls(
            testbed=testbeds[lab_index] if testbeds else None,
            testbeds=testbeds,
            lab_index=lab_index,
            backend=backend,
            allow_destructive=bool(config.getoption("ctrlab_allow_destructive")),
            region=config.getoption("ctrlab_region"),
            sim_appliances=_or_default(config.getoption("ctrlab_sim_appliances"), DEFAULT_APPLIANCES),
            req_url_pattern=config.getoption("ctrlab_req_url_pattern") or config.getini("ctrlab_req_url_pattern"),
            reports_dir=reports if reports.is_absolute() else config.rootpath / reports,
            rootpath=config.rootpath,
        )


class CtrlabSession:
    def __init__(self, config: pytest.Config, options: Options) -> None:
        self.config = config
        self.options = options
        self.masker = Masker()
        self.preloaded_labs: list[Testbed] = []  # --testbed, validated at configure time: the xdist controller's
        # every one, any other process's its own
        self.backend: Backend | None = None
        self.lab: Lab | None = None
        self.provision_error: str | None = None
        self.provisioned: Testbed | None = None  # kept after release, for the report
        self.backend_description: str | None = None
        self.lab_faults: list[str] = []
        self.exit_stack = contextlib.ExitStack()  # what configure installed, undone in reverse at unconfigure
        # pytest-xdist: a directory all processes of the run share (the lease lock files); set on the
        # controller by the plugin and handed to the workers through ``workerinput``.
        self.shared_dir: Path | None = None

    @property
    def preloaded(self) -> Testbed | None:
        """This process's --testbed (the xdist controller's: the first), validated at configure time."""
        return self.preloaded_labs[0] if self.preloaded_labs else None

    def on_close(self, undo: Callable[[], object]) -> None:
        self.exit_stack.callback(undo)

    def close(self) -> None:
        self.exit_stack.close()

    # ---- the backend and the lab ------------------------------------------------------------------------
    def make_backend(self) -> Backend:
        from .backends import BackendOptions, get_backend

        cls = get_backend(self.options.backend)
        workerinput: dict[str, Any] = getattr(self.config, "workerinput", {})
        worker = workerinput.get("workerid")
        if workerinput.get("ctrlab_shared_dir"):
            self.shared_dir = Path(workerinput["ctrlab_shared_dir"])
        return cls(BackendOptions(testbed_path=self.options.testbed, appliances=self.options.sim_appliances,
                                  reports_dir=self.options.reports_dir, project_root=self.options.rootpath,
                                  log_name=f"sim-lab-{worker}.log" if worker else "sim-lab.log"))

    def provision(self) -> Lab:
        """Provision once per session; raises ``BackendError`` / ``TestbedError`` with a clear message."""
        from .provisioned_lab import Lab

        if self.lab is not None:
            return self.lab
        if self.backend is None:
            self.backend = self.make_backend()
        testbed = self.backend.provision()
        self.masker.add_testbed(testbed)
        if self.options.region and self.options.region != testbed.region:
            testbed = testbed.with_region(self.options.region)
        self.lab = Lab(testbed, self.options.backend, self.masker)
        if self.shared_dir is not None and self.options.backend != "sim":
            # xdist on a lab the workers share (real gear, a lab from `ctrlab sim up`): appliances are leased across
            # workers there (those of one lab, with several --testbed). With the sim backend every worker runs a lab
            # of its own and shares nothing.
            self.lab.lease_dir = self.shared_dir / "leases" / str(self.options.lab_index)
            self.lab.lease_dir.mkdir(exist_ok=True)
        self.provisioned, self.backend_description = testbed, self.backend.describe()
        self.config.hook.pytest_ctrlab_lab_ready(lab=self.lab)
        return self.lab

    def release(self) -> None:
        lab, self.lab = self.lab, None
        backend, self.backend = self.backend, None
        try:
            if lab is not None:
                lab.close()
        finally:
            if backend is not None:
                backend.teardown()

    # ---- reporting --------------------------------------------------------------------------------------
    def environment(self) -> dict[str, Any]:
        """environment.properties for Allure: what ran against what."""
        env: dict[str, Any] = {
            "backend": self.options.backend,
            "destructive.allowed": self.options.allow_destructive,
            "ctrlab.version": _version("ctrlab"),
            "pytest.version": pytest.__version__,
            "pytest-bdd.version": _version("pytest-bdd"),
            "python.version": platform.python_version(),
        }
        if self.backend_description:
            env["backend"] = self.backend_description
        own = self.provisioned or self.preloaded
        labs = self.preloaded_labs if len(self.preloaded_labs) > 1 else [own] if own is not None else []
        for k, testbed in enumerate(labs, 1):
            env.update(self._lab_environment(testbed, f"lab{k}." if len(labs) > 1 else ""))
        if not labs and self.options.region:
            env["region"] = self.options.region
        if self.provision_error:
            env["ctrlab.error"] = self.provision_error.splitlines()[0]
        return env

    def _lab_environment(self, testbed: Testbed, prefix: str) -> dict[str, Any]:
        env: dict[str, Any] = {f"{prefix}testbed": f"{testbed.name} ({testbed.source})",
                               f"{prefix}region": self.options.region or testbed.region}
        if testbed.simulator is not None:
            env[f"{prefix}simulator.version"] = testbed.simulator.version
            env[f"{prefix}simulator.clock_speed"] = testbed.simulator.clock_speed
        for name, device in testbed.devices.items():
            env[f"{prefix}appliance.{name}"] = (f"{device.kind} {device.model} AsyncOS {device.version} "
                                                f"({device.hostname})")
        models = sorted({f"{d.model} {d.version}" for d in testbed.devices.values()})
        env[f"{prefix}appliance.models"] = ", ".join(models)
        return env


def worker_lab(config: pytest.Config, labs: int) -> int:
    """Which of ``labs`` testbeds this process runs on: xdist worker ``gwI`` on lab ``I mod labs`` (workers
    replaced after a crash keep counting up), every other process on the first."""
    worker = str(getattr(config, "workerinput", {}).get("workerid", ""))
    index = int(worker[2:]) if worker.startswith("gw") and worker[2:].isdigit() else 0
    return index % labs if labs else 0


def _or_default(value: int | None, default: int) -> int:
    return default if value is None else value


def _version(dist: str) -> str:
    try:
        return importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        return "unknown"
