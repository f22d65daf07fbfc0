"""Start the bundled lab while pytest is still starting, not when the first scenario asks for it.

Starting the simulator lab costs about a second of its own process (imports, keys, listeners); pytest's own
start (the step library, collection) costs as much in the pytest process. On a run of the feature suite with
the sim backend the lab process is therefore launched from ``pytest_load_initial_conftests``, before the
conftests are imported, and the ``lab`` fixture only waits for it to be ready. Nothing else changes: the
backend is the one ``pytest_configure`` would have made (:func:`adopt` checks its options and starts over
if they differ), the first scenario still waits for the testbed file and the health check, and a run
that never provisions (everything deselected) stops the lab at the end.

Only for this checkout's own suite (every scenario of it runs on the lab): not for ``--collect-only`` and the
other runs that run no test, another backend, runs of anything but ``features/``, nor other projects (there a
lab starts when a scenario asks for one). The xdist controller runs no lab: it starts the fork server
(``harness/forkserver``) its workers are forked from, and from which each of them, early too, gets its lab.
"""

from __future__ import annotations

import copy
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from .backends import Backend
    from .session import CtrlabSession

EARLY_KEY = pytest.StashKey["Backend"]()
_NO_TESTS = ("collectonly", "help", "version", "markers", "showfixtures", "show_fixtures_per_test", "setuponly",
             "setupplan")


def start(config: pytest.Config, parser: pytest.Parser, args: list[str]) -> None:
    """Launch the sim lab now if this run will provision one (see the module doc); never raises.

    ``parser`` is the one ``pytest_load_initial_conftests`` hands its hook: every plugin's options are on it
    by then, so the arguments are read as ``pytest_configure`` will see them. The xdist controller, which runs
    no lab, starts the fork server its workers and their labs come from (``harness/forkserver``)."""
    try:
        ns = parser.parse_known_args(list(args), namespace=copy.copy(config.option))
        if not _runs_sim_labs(config, ns):
            return
        if not os.environ.get("PYTEST_XDIST_WORKER") and getattr(ns, "numprocesses", None):
            _start_fork_server(config)
            return
        backend = _early_backend(config, ns)
        if backend is None:
            return
        backend.start()  # type: ignore[attr-defined]
    except Exception:  # the lab fixture starts it the usual way, and reports what goes wrong there
        return
    config.stash[EARLY_KEY] = backend


def adopt(config: pytest.Config, state: CtrlabSession, fresh: Backend) -> Backend:
    """The lab started early if it is the one ``fresh`` describes, else ``fresh`` (the early one stopped)."""
    early = config.stash.get(EARLY_KEY, None)
    if early is None:
        return fresh
    del config.stash[EARLY_KEY]
    if type(early) is not type(fresh) or early.options != fresh.options:
        early.teardown()
        return fresh

    def unused() -> None:  # a run that never provisioned (all deselected): stopped, and no lab log left
        if state.provisioned is None:
            early.teardown()
            log = getattr(early, "log_path", None)
            if isinstance(log, Path):
                log.unlink(missing_ok=True)

    state.on_close(unused)
    return early


def _runs_sim_labs(config: pytest.Config, ns: Any) -> bool:
    """Will this run's processes provision bundled sim labs: scenarios of this checkout's suite to run, the
    sim backend, no testbed?"""
    if any(getattr(ns, name, False) for name in _NO_TESTS):
        return False
    testbed = getattr(ns, "ctrlab_testbed", None)
    if (getattr(ns, "ctrlab_backend", None) or ("lab" if testbed else "sim")) != "sim" or testbed:
        return False
    appliances = getattr(ns, "ctrlab_sim_appliances", None)
    if appliances is not None and appliances < 1:
        return False
    return _is_bundled_suite(config.rootpath) and _runs_features(config, ns)


def _reports_dir(config: pytest.Config) -> Path:
    from .report.run_dirs import private_reports_dir

    reports = Path(config.getini("ctrlab_reports_dir") or "reports")
    reports = reports if reports.is_absolute() else config.rootpath / reports
    private, _ = private_reports_dir(config.rootpath, config.getini("ctrlab_reports_dir"), True)
    return private or reports


def _early_backend(config: pytest.Config, ns: Any) -> Backend | None:
    from .backends import BackendOptions, get_backend
    from .session import DEFAULT_APPLIANCES

    worker = os.environ.get("PYTEST_XDIST_WORKER")
    appliances = getattr(ns, "ctrlab_sim_appliances", None)
    appliances = DEFAULT_APPLIANCES if appliances is None else appliances
    cls = get_backend("sim")
    if not hasattr(cls, "start"):
        return None
    return cls(BackendOptions(testbed_path=None, appliances=appliances, reports_dir=_reports_dir(config),
                              project_root=config.rootpath,
                              log_name=f"sim-lab-{worker}.log" if worker else "sim-lab.log"))


def _start_fork_server(config: pytest.Config) -> None:
    """The xdist controller: start the fork server its workers and their labs come from, stopped when pytest
    ends (``pytest_xdist_setupnodes`` routes the workers to it)."""
    from . import forkserver

    reports = _reports_dir(config)
    reports.mkdir(parents=True, exist_ok=True)
    server = forkserver.start_server(config.rootpath, reports / "fork-server.log")
    config.add_cleanup(server.stop)


def _is_bundled_suite(rootpath: Path) -> bool:
    """This checkout's own suite, whose scenarios all run on the lab; elsewhere (a user's project, the
    harness's pytester projects) a lab starts only when a scenario asks for it."""
    from .report.run_dirs import is_checkout

    return is_checkout(rootpath)


def _runs_features(config: pytest.Config, ns: Any) -> bool:
    """The same question as the plugin's ``_runs_features``, asked of the arguments before pytest settled them."""
    try:
        base = config.getini("bdd_features_base_dir") or "features"
    except ValueError:
        return False
    features = (config.rootpath / base).resolve()
    paths = [a for a in getattr(ns, "file_or_dir", None) or [] if not a.startswith("-")]
    if not paths:
        paths = list(config.getini("testpaths") or [])
        here = config.rootpath
    else:
        here = config.invocation_params.dir
    for arg in paths:
        path = (here / arg.split("::")[0]).resolve()
        if path == features or features in path.parents or path.suffix == ".feature":
            return True
    return False
