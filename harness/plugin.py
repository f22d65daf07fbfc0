"""ctrlab's pytest plugin (entry point ``pytest11: ctrlab``): options, tags, safety, masking, reports.

Loaded into every pytest run of this environment, so it stays cheap and inert: configure time only
registers markers, installs masking and reads ``--testbed`` when one is given; a lab is provisioned
only when a test asks for the ``lab`` fixture (or one built on it). Fixtures live in
``harness/fixtures.py``; hooks the drivers implement are in ``harness/hookspecs.py``.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Generator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from . import tags
from .report import masking
from .session import SESSION_KEY, CtrlabSession, Options

if TYPE_CHECKING:
    from .testbed import Testbed

# Exceptions that mean "the lab or the testbed is at fault": reported in one line, not a traceback.
_LAB_FAULTS = ("LabUnreachable", "DriverTimeout", "AuthenticationFailed", "TestbedError", "BackendError",
               "SnapshotFailed", "RestoreFailed", "HostKeyError")
_HINTS = {
    "LabUnreachable": "a lab fault, not a conformance finding: is the lab up, and does the testbed point at it?",
    "DriverTimeout": "a lab fault, not a conformance finding: the peer connected but did not answer in time",
    "AuthenticationFailed": "the testbed's credentials were refused: check the password (and its %ENV variable)",
    "HostKeyError": "a lab/testbed fault, not a conformance finding: no password was sent (docs/security.md)",
}
STEP_KEY = pytest.StashKey[str]()
LOG_MARK_KEY = pytest.StashKey[object]()  # the backend's log mark taken when a scenario starts
_CLEAN_RESULTS = pytest.StashKey[bool]()  # the default results folder: emptied when tests start running
_RAN = pytest.StashKey[bool]()  # tests ran into the results folder: environment and categories belong there
_EVIDENCE = pytest.StashKey[Any]()  # report.step_evidence.StepEvidence: exchanges filed under the running step
_CONFIGS: list[pytest.Config] = []  # the configured sessions, innermost last (pytester nests them)


# ---- options ------------------------------------------------------------------------------------------
def pytest_addhooks(pluginmanager: pytest.PytestPluginManager) -> None:
    from . import hookspecs

    pluginmanager.add_hookspecs(hookspecs)


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("ctrlab", "ctrlab: the lab under test")
    group.addoption("--testbed", dest="ctrlab_testbed", metavar="PATH", action="append",
                    help="testbed file of the lab (docs/testbed.md); implies --backend lab. Once per lab with -n N: "
                         "worker gwI runs on the (I mod labs)-th, workers of one lab lease its appliances")
    group.addoption("--backend", dest="ctrlab_backend", metavar="NAME",
                    help="provisioner: sim (bundled simulators, the default without --testbed), lab (real gear, "
                         "the default with --testbed), or any installed ctrlab.backends entry point")
    group.addoption("--allow-destructive", dest="ctrlab_allow_destructive", action="store_true",
                    help="run @destructive scenarios on real gear (settings are recorded before, restored after)")
    group.addoption("--region", dest="ctrlab_region", choices=tags.REGIONS,
                    help="override the testbed's cloud.region")
    group.addoption("--shard", dest="ctrlab_shard", metavar="I/N",
                    help="run only the I-th of N shards of the selected scenarios (round-robin by node id; CI runners "
                         "each run one shard against their own lab)")
    group.addoption("--sim-appliances", dest="ctrlab_sim_appliances", type=int, metavar="N",
                    help="ESAs in the bundled lab (backend sim; default 2; one SMA and one gateway are added)")
    group.addoption("--req-url-pattern", dest="ctrlab_req_url_pattern", metavar="PATTERN",
                    help="URL of a requirement in the report, with {id}; default: ini ctrlab_req_url_pattern")
    parser.addini("ctrlab_req_url_pattern", "URL of a requirement for Allure links, {id} is replaced",
                  default="requirements.html#{id}")  # in the served report (docs/requirements.md in the repo)
    parser.addini("ctrlab_reports_dir", "where allure-results and sim-lab.log go (relative to rootdir)",
                  default="reports")


@pytest.hookimpl(tryfirst=True)  # plugins are loaded, conftests and the final parse are still to come
def pytest_load_initial_conftests(early_config: pytest.Config, parser: pytest.Parser, args: list[str]) -> None:
    from . import invocation

    invocation.settle(early_config, args)  # `--testbed PATH` / `--alluredir DIR` must not move the rootdir
    invocation.map_feature_args(early_config, args)  # `pytest features/x.feature`
    from . import early_lab

    early_lab.start(early_config, parser, args)  # the sim lab starts while pytest imports the steps and collects


# ---- configure ----------------------------------------------------------------------------------------
@pytest.hookimpl(tryfirst=True)  # before allure-pytest-bdd reads --alluredir
def pytest_configure(config: pytest.Config) -> None:
    for line, text in tags.MARKERS.items():
        config.addinivalue_line("markers", f"{line}: {text}")
    _register_area_markers(config)
    options, remove_private_reports = _reports_dir(config, Options.from_config(config))
    state = CtrlabSession(config, options)
    if remove_private_reports is not None:
        state.on_close(remove_private_reports)
    config.stash[SESSION_KEY] = state
    config.add_cleanup(state.close)
    _CONFIGS.append(config)
    state.on_close(lambda: _CONFIGS.remove(config))

    masking.push(state.masker)
    state.on_close(lambda: masking.pop(state.masker))
    state.exit_stack.enter_context(masking.log_masking(lambda: state.masker))
    from .report.step_evidence import StepEvidence

    config.stash[_EVIDENCE] = evidence = StepEvidence()
    state.on_close(evidence.install())
    state.on_close(tags.accept_scheme_names())
    from . import bdd_lookup

    state.on_close(bdd_lookup.install())  # pytest-bdd's step lookup, once per step text
    _default_alluredir(config, options)
    runs_scenarios = not _is_xdist_controller(config)  # the xdist controller hands scenarios to its workers
    if runs_scenarios:  # the fixtures and the drivers' keepers import the drivers: a second the controller needs not
        config.pluginmanager.register(_fixtures_module(), "ctrlab-fixtures")
    from . import sharding

    config.pluginmanager.register(sharding, "ctrlab-sharding")
    from .report import step_params  # Allure step parameters: the step's own arguments, not fixtures

    config.pluginmanager.register(step_params, "ctrlab-step-params")
    if runs_scenarios:
        from .appliance import keeper

        config.pluginmanager.register(keeper, "ctrlab-settings-keepers")
    from . import outcomes

    config.pluginmanager.register(outcomes, "ctrlab-outcomes")  # verdicts, circuit breaker, summary

    from .backends import BackendError

    if options.backend == "sim" and options.testbed is not None:
        _abort(state, "--testbed describes an existing lab, which the sim backend does not use: drop --backend sim "
                      "(the lab backend reads the testbed), or drop --testbed to start the bundled simulators")
    if options.sim_appliances < 1:
        _abort(state, f"--sim-appliances must be at least 1 (got {options.sim_appliances})")
    if options.backend == "lab" and options.testbed is None:
        _abort(state, "--backend lab needs --testbed PATH (the testbed of the real gear; docs/testbed.md)")
    if options.several_labs and not (_is_xdist_controller(config) or hasattr(config, "workerinput")):
        _abort(state, f"--testbed was given {len(options.testbeds)} times: several labs are for pytest-xdist "
                      "(-n N: each worker runs on one of them); without -n give one --testbed")
    try:
        from . import early_lab

        state.backend = early_lab.adopt(config, state, state.make_backend())
    except BackendError as exc:
        _abort(state, str(exc))
    if _is_xdist_controller(config):
        _share_with_workers(config, state)
    if options.testbed is not None:  # fail at start, in one line, rather than in every scenario
        from .testbed import TestbedError, load_testbed  # pydantic: only imported when a testbed is used

        # The xdist controller checks every lab (its workers each load their own); any other process its own.
        paths = options.testbeds if _is_xdist_controller(config) else (options.testbed,)
        try:
            for path in paths:
                testbed = load_testbed(path)
                state.masker.add_testbed(testbed)
                if options.region:
                    testbed.with_region(options.region)
                state.preloaded_labs.append(testbed)
        except TestbedError as exc:
            _abort(state, str(exc))
        shared = _appliance_in_two_labs(paths, state.preloaded_labs)
        if shared:
            _abort(state, shared)


def _appliance_in_two_labs(paths: tuple[Path, ...], labs: list[Testbed]) -> str | None:
    """Workers of different labs lease nothing from each other: two testbeds that reach one appliance would let
    two workers drive it at once. The message naming both when they do."""
    seen: dict[tuple[str, int], tuple[int, str]] = {}
    for lab, testbed in enumerate(labs):
        for name, device in testbed.devices.items():
            for role, where in device.connections.endpoints().items():
                first, first_name = seen.setdefault(where, (lab, name))
                if first != lab:
                    return (f"--testbed {paths[first]} ({first_name}) and --testbed {paths[lab]} ({name}) reach the "
                            f"same appliance ({role} {where[0]}:{where[1]}): with several --testbed each lab needs "
                            "appliances of its own (workers of different labs do not lease from each other)")
    return None


def _is_xdist_controller(config: pytest.Config) -> bool:
    return (not hasattr(config, "workerinput") and bool(getattr(config.option, "numprocesses", None))
            and getattr(config.option, "dist", "no") != "no")


def _share_with_workers(config: pytest.Config, state: CtrlabSession) -> None:
    """pytest-xdist: a lease directory for the whole run, owned by the controller (it outlives every worker).

    With the sim backend each worker provisions a lab of its own (its own appliances, SSE and Threat Response:
    nothing to lock, no lab-wide step stalls the others); on a lab the workers share (``--testbed``) they lease
    its appliances through lock files in this directory.
    """
    import shutil
    import tempfile

    shared = Path(tempfile.mkdtemp(prefix="ctrlab-xdist-"))
    (shared / "leases").mkdir()
    state.shared_dir = shared
    state.on_close(lambda: shutil.rmtree(shared, ignore_errors=True))


@pytest.hookimpl(optionalhook=True)  # an xdist hook: the controller, before it starts its workers
def pytest_xdist_setupnodes(config: pytest.Config, specs: list[Any]) -> None:
    from .forkserver import route_workers  # forked from the fork server if this process started one

    route_workers(specs)


@pytest.hookimpl(optionalhook=True)  # an xdist hook: only called when pytest-xdist runs workers
def pytest_configure_node(node: Any) -> None:
    state = node.config.stash.get(SESSION_KEY, None)
    if state is None or state.shared_dir is None:
        return
    node.workerinput["ctrlab_shared_dir"] = str(state.shared_dir)


def _fixtures_module() -> Any:
    from . import fixtures

    return fixtures


def _abort(state: CtrlabSession, message: str) -> None:
    """Stop at configure time with one clear message, leaving a readable report behind if there is one."""
    state.provision_error = message
    _write_report_files(state.config, only_if_exists=True)
    raise pytest.UsageError(message)


def _runs_features(config: pytest.Config) -> bool:
    """Whether this run targets the feature suite (``pytest``, ``pytest features/...``), not ``pytest tests``."""
    try:
        base = config.getini("bdd_features_base_dir") or "features"
    except ValueError:
        base = "features"
    features = (config.rootpath / base).resolve()
    for arg in config.args:
        path = (config.invocation_params.dir / arg.split("::")[0]).resolve()
        if path == features or features in path.parents or path.suffix == ".feature":
            return True
    return False


def _reports_dir(config: pytest.Config, options: Options) -> tuple[Options, Callable[[], None] | None]:
    import dataclasses

    from .report.run_dirs import private_reports_dir

    path, remove = private_reports_dir(config.rootpath, config.getini("ctrlab_reports_dir"), _runs_features(config))
    return (options if path is None else dataclasses.replace(options, reports_dir=path)), remove


def _default_alluredir(config: pytest.Config, options: Options) -> None:
    # Why only for feature runs: ``pytest tests`` must not overwrite the suite's results with the
    # harness's own unit tests; a feature run gets reports/allure-results without anyone asking.
    if not hasattr(config.option, "allure_report_dir") or config.option.allure_report_dir:
        return
    if not _runs_features(config):
        return
    config.option.allure_report_dir = str(options.reports_dir / "allure-results")
    if not hasattr(config, "workerinput"):  # xdist workers must not wipe each other's results
        config.stash[_CLEAN_RESULTS] = True  # emptied when tests start running (pytest_runtestloop)


@pytest.hookimpl(tryfirst=True)  # before the runner (or xdist's controller loop) writes any result
def pytest_runtestloop(session: pytest.Session) -> None:
    config = session.config
    if session.testsfailed or config.option.collectonly:  # collection errors, --collect-only: keep the report
        return
    results = _allure_dir(config)
    if results is None:
        return
    if config.stash.get(_CLEAN_RESULTS, False):
        from .report.run_dirs import clean_results

        clean_results(results)
    config.stash[_RAN] = True


def _allure_dir(config: pytest.Config) -> Path | None:
    value = getattr(config.option, "allure_report_dir", None)
    return Path(value).resolve() if value else None


def _write_report_files(config: pytest.Config, only_if_exists: bool = False) -> None:
    from .report.allure_results import write_categories, write_environment

    results = _allure_dir(config)
    state = config.stash.get(SESSION_KEY, None)
    if results is None or state is None or (only_if_exists and not results.is_dir()):
        return
    # With xdist each worker provisions (or reads) its lab and writes what it ran against; on several labs
    # (--testbed once per lab) the controller writes them all, at the end.
    is_worker = hasattr(config, "workerinput")
    several = state.options.several_labs
    if is_worker and (state.provisioned is None or several):
        return
    write_categories(results)
    env_file = results / "environment.properties"
    if is_worker or several or state.provisioned is not None or state.provision_error or not env_file.exists():
        write_environment(results, state.environment(), state.masker)


# ---- session ------------------------------------------------------------------------------------------
def pytest_report_header(config: pytest.Config) -> list[str]:
    state = config.stash.get(SESSION_KEY, None)
    if state is None:
        return []
    o = state.options
    testbed = f", testbed{'s' if o.several_labs else ''} {', '.join(map(str, o.testbeds))}" if o.testbeds else ""
    return [f"ctrlab: backend {o.backend}{testbed}, destructive scenarios on real gear "
            f"{'allowed' if o.allow_destructive else 'skipped'}"]


@pytest.hookimpl(trylast=True)  # after allure-pytest-bdd registered its writer
def pytest_sessionstart(session: pytest.Session) -> None:
    state = session.config.stash.get(SESSION_KEY, None)
    if state is None:
        return
    from .report.allure_results import install_masking_writer, uninstall_masking_writer
    from .safety import install_termination_handlers

    swapped = install_masking_writer()
    # Its own clean-up, registered after Allure's (clean-ups run last-in first-out): the original writer
    # must be back before allure-pytest-bdd unregisters it by name.
    session.config.add_cleanup(lambda: uninstall_masking_writer(swapped))
    state.on_close(install_termination_handlers())
    _mask_terminal(session.config, state)
    if _is_xdist_controller(session.config):  # it collects nothing: its heap is complete once it starts
        _freeze_heap(session.config)


def _mask_terminal(config: pytest.Config, state: CtrlabSession) -> None:
    reporter = config.pluginmanager.get_plugin("terminalreporter")
    writer = getattr(reporter, "_tw", None)
    if writer is not None and hasattr(writer, "_file") and not isinstance(writer._file, masking.MaskingStream):
        original = writer._file
        writer._file = masking.MaskingStream(original, lambda: state.masker)

        def restore_writer() -> None:
            writer._file = original

        state.on_close(restore_writer)
    if config.getoption("capture", "fd") == "no":  # -s: prints reach the terminal directly
        out, err = sys.stdout, sys.stderr
        sys.stdout = masking.MaskingStream(out, lambda: state.masker)  # type: ignore[assignment]
        sys.stderr = masking.MaskingStream(err, lambda: state.masker)  # type: ignore[assignment]

        def restore_streams() -> None:
            sys.stdout, sys.stderr = out, err

        state.on_close(restore_streams)


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session: pytest.Session) -> None:
    if session.config.stash.get(_RAN, False) or hasattr(session.config, "workerinput"):
        _write_report_files(session.config)
    results = _allure_dir(session.config)
    if session.config.stash.get(_RAN, False) and results is not None and not hasattr(session.config, "workerinput"):
        _write_requirements_page(session.config, results)


def _write_requirements_page(config: pytest.Config, results: Path) -> None:
    """Which requirement IDs passed, failed, were not run: requirements.html and a line in the environment."""
    from .report.allure_results import add_environment
    from .report.requirements_page import summary_line, write_page

    try:
        counts = write_page(results)
    except Exception:  # a broken catalogue must not fail the run; say so instead
        import logging

        logging.getLogger(__name__).warning("ctrlab: no requirements page in %s", results, exc_info=True)
        return
    add_environment(results, {"requirements": summary_line(counts)})


def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    state = config.stash.get(SESSION_KEY, None)
    if state is None:
        return
    from .safety import NET

    unrestored = NET.take_unrestored()
    if unrestored:
        terminalreporter.section("ctrlab: appliances NOT restored (restore by hand before the next run)", sep="-",
                                 red=True)
        for line in unrestored:
            terminalreporter.line(state.masker.mask(line))
    if state.lab_faults:
        terminalreporter.section("ctrlab: lab faults (not conformance findings)", sep="-", yellow=True)
        for line in sorted(set(state.lab_faults))[:20]:
            terminalreporter.line(line)
    if state.options.backend == "sim" and (state.provision_error or (state.lab_faults and state.provisioned)):
        terminalreporter.line(f"simulator log: {state.options.reports_dir / 'sim-lab*.log'}")
    results = _allure_dir(config)
    if results is not None and results.is_dir() and not hasattr(config, "workerinput"):
        terminalreporter.line(f"ctrlab: Allure results in {results} (npx allure generate {results})")


# ---- tags -> markers ----------------------------------------------------------------------------------
@pytest.hookimpl(optionalhook=True, tryfirst=True)  # before pytest-bdd's default (firstresult hook)
def pytest_bdd_apply_tag(tag: str, function: Callable[..., Any]) -> bool:
    config = _CONFIGS[-1] if _CONFIGS else None  # the session importing the scenario module

    def register(name: str) -> None:
        if config is not None and not _is_registered(config, name):
            config.addinivalue_line("markers", f"{name}: Gherkin area tag @{name}")

    try:
        marks = tags.marks_for_tag(tag, register)
    except tags.TagError as exc:
        marks = [getattr(pytest.mark, tags.TAG_ERROR_MARK)(str(exc))]
    for mark in marks:
        mark(function)
    return True


def _register_area_markers(config: pytest.Config) -> None:
    """The area tags the feature files use, so ``pytest --markers`` lists them (and ``-m`` needs no collection)."""
    try:
        base = str(config.getini("bdd_features_base_dir") or "features")
    except ValueError:  # pytest-bdd's ini is not registered
        base = "features"
    for name, files in tags.area_tags(config.rootpath / base).items():
        if not _is_registered(config, name):
            config.addinivalue_line("markers", f"{name}: Gherkin area tag @{name} ({', '.join(files)})")


def _is_registered(config: pytest.Config, name: str) -> bool:
    return any(line.split(":")[0].split("(")[0].strip() == name for line in config.getini("markers"))


@pytest.hookimpl(tryfirst=True)  # before -m deselection and before Allure reads the markers
def pytest_collection_modifyitems(session: pytest.Session, config: pytest.Config, items: list[pytest.Item]) -> None:
    from .invocation import feature_filter

    feature_filter(config, items)
    state = config.stash.get(SESSION_KEY, None)
    if state is None:
        return
    problems: list[str] = []
    for item in items:
        _map_raw_tags(item)
        problems += [f"{_scenario_name(item)}: {m.args[0]}" for m in item.iter_markers(tags.TAG_ERROR_MARK)]
        _add_allure_labels(item, state.options.req_url_pattern)
    if problems:
        raise pytest.UsageError("bad Gherkin tags:\n  " + "\n  ".join(dict.fromkeys(problems)))


@pytest.hookimpl(trylast=True)
def pytest_collection_finish(session: pytest.Session) -> None:
    """What collection built (modules, fixtures, items) lives to the end of the run: the cyclic garbage
    collector need not walk it again at every full collection, nor five times at exit (pytest's unraisable
    check). Measured on the feature suite: a third of the collector's time, and half a second at exit."""
    if not session.config.option.collectonly:
        _freeze_heap(session.config)


def _freeze_heap(config: pytest.Config) -> None:
    state = config.stash.get(SESSION_KEY, None)
    if state is None:
        return
    import gc

    gc.freeze()

    def thaw() -> None:  # a run inside another (pytester's inline runs, pytest.main() from a script) must not
        if not _process_ends_with(config):  # leave its objects frozen; at the very end they may stay so:
            gc.unfreeze()  # thawed, the interpreter's exit would walk them all four times over (0.2 s a process)

    state.on_close(thaw)


def _process_ends_with(config: pytest.Config) -> bool:
    """Whether the process exits when this run ends: the outermost run of pytest's command line or of an
    xdist worker."""
    if len(_CONFIGS) != 1 or _CONFIGS[0] is not config:  # a run nested in another (pytester)
        return False
    if hasattr(config, "workerinput"):
        return True
    frame = sys._getframe()  # pytest's command line returns to the interpreter's exit; pytest.main() need not
    while frame is not None and frame.f_code is not pytest.console_main.__code__:
        frame = frame.f_back  # type: ignore[assignment]
    return frame is not None


def _map_raw_tags(item: pytest.Item) -> None:
    """Tags of ``Examples:`` tables arrive as raw marker names (``region:eu``): map them here."""
    for mark in list(item.own_markers):
        if tags.is_scheme_name(mark.name) and not mark.args:
            try:
                for mapped in tags.marks_for_tag(mark.name):
                    item.add_marker(mapped)
            except tags.TagError as exc:
                item.add_marker(getattr(pytest.mark, tags.TAG_ERROR_MARK)(str(exc)))


def _scenario_name(item: pytest.Item) -> str:
    from .report.unstarted import scenario_template

    template = scenario_template(item)
    if template is None:
        return item.nodeid
    return f"{template.feature.rel_filename}: scenario {template.name!r}"


def _requirement_ids(item: pytest.Item) -> list[str]:
    # Gherkin tags reach pytest as a set: sort, so reports do not change from run to run.
    ids = {str(a) for m in item.iter_markers("req") for a in m.args}
    return sorted(ids, key=lambda rid: (rid.split("-")[0], int(rid.split("-")[1]) if rid[-1].isdigit() else 0))


def _add_allure_labels(item: pytest.Item, url_pattern: str) -> None:
    ids = _requirement_ids(item)
    if not ids:
        return
    labels = {m.kwargs.get("label_type") for m in item.iter_markers("allure_label")}
    for rid in ids:
        item.add_marker(pytest.mark.allure_link(url_pattern.replace("{id}", rid), name=rid, link_type="requirement"))
    if "severity" not in labels:
        item.add_marker(pytest.mark.allure_label(derived_severity(item, ids), label_type="severity"))
    if "story" not in labels:
        item.add_marker(pytest.mark.allure_label(*ids, label_type="story"))
    if "epic" not in labels:
        groups = _catalogue_groups(ids)
        if groups:
            item.add_marker(pytest.mark.allure_label(*groups, label_type="epic"))


# Without @severity:<level>: what breaks if the scenario fails. A destructive scenario or the integration's
# core (enabling, registering, verifying it) is critical; troubleshooting cases are minor; the rest normal.
CRITICAL_GROUPS = ("ENA", "REG", "VER")
MINOR_GROUPS = ("TS",)


def derived_severity(item: pytest.Item, ids: list[str]) -> str:
    groups = {rid.split("-")[0] for rid in ids}
    if item.get_closest_marker("destructive") is not None or groups & set(CRITICAL_GROUPS):
        return "critical"
    if groups and groups <= set(MINOR_GROUPS):
        return "minor"
    return "normal"


def _catalogue_groups(ids: list[str]) -> list[str]:
    try:
        from .catalogue import load
    except ImportError:
        return []
    try:
        catalogue = load()
    except Exception:  # a missing or broken catalogue must not break collection
        return []
    groups = [catalogue.groups.get(catalogue[rid].group, "") for rid in ids if rid in catalogue]
    # "troubleshooting cases (each: ...)" -> "Troubleshooting cases": an epic is a heading, not a sentence.
    titles = [g.split(" (")[0] for g in groups if g]
    return [t[:1].upper() + t[1:] for t in dict.fromkeys(titles)]


# ---- per-test reporting: one-line lab faults, masked reports --------------------------------------------
@pytest.hookimpl(optionalhook=True)
def pytest_bdd_before_scenario(request: pytest.FixtureRequest, feature: Any, scenario: Any) -> None:
    state = request.config.stash.get(SESSION_KEY, None)
    if state is not None and state.backend is not None:  # the lab is up: its fixtures ran before this hook
        request.node.stash[LOG_MARK_KEY] = state.backend.log_mark()
    if _EVIDENCE in request.config.stash:
        request.config.stash[_EVIDENCE].start_scenario()


@pytest.hookimpl(optionalhook=True)
def pytest_bdd_before_step(request: pytest.FixtureRequest, feature: Any, scenario: Any, step: Any,
                           step_func: Any) -> None:
    request.node.stash[STEP_KEY] = f"{step.keyword} {step.name}".strip()
    if _EVIDENCE in request.config.stash:
        request.config.stash[_EVIDENCE].start_step(request.node.stash[STEP_KEY])


@pytest.hookimpl(optionalhook=True, tryfirst=True)  # before Allure closes the step: attach inside it
def pytest_bdd_step_error(request: pytest.FixtureRequest, feature: Any, scenario: Any, step: Any, step_func: Any,
                          step_func_args: Any, exception: Exception) -> None:
    from .report.step_evidence import attach_failing_step
    from .report.unstarted import allure_recording

    if _EVIDENCE in request.config.stash and allure_recording():
        attach_failing_step(request.config.stash[_EVIDENCE])


@pytest.hookimpl(optionalhook=True, trylast=True)  # after Allure recorded the undefined step
def pytest_bdd_step_func_lookup_error(request: pytest.FixtureRequest, feature: Any, scenario: Any, step: Any,
                                      exception: Exception) -> None:
    from .unknown_steps import unknown_step_error

    raise unknown_step_error(feature, step, str(request.config.rootpath))  # replaces pytest-bdd's message


@pytest.hookimpl(hookwrapper=True, trylast=True)  # innermost: masks before Allure, junit, terminal read it
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Generator[None, Any, None]:
    outcome = yield
    report = outcome.get_result()
    state = item.config.stash.get(SESSION_KEY, None)
    if state is None:
        return
    if call.excinfo is not None and report.failed:
        _shorten_lab_fault(item, call.excinfo, report, state)
        if type(call.excinfo.value).__name__ == "UnknownStep":  # the message is the whole story
            report.longrepr = str(call.excinfo.value)
        if report.when == "call":  # Allure still holds the scenario open: it is written at teardown
            _attach_lab_log(item, state)
    from .outcomes import reclassify

    reclassify(item, call, report)  # before Allure (an outer wrapper) reads call.excinfo
    masking.mask_report(report, state.masker)
    if report.skipped and isinstance(report.longrepr, tuple):
        _skip_at_scenario(item, report)
    if report.when == "setup" and not report.passed:
        from .report.unstarted import report_unstarted_scenario

        report_unstarted_scenario(item, report, call.excinfo)


def _skip_at_scenario(item: pytest.Item, report: pytest.TestReport) -> None:
    """``pytest -rs`` lists a skipped scenario at its line in the feature file, not in pytest-bdd's code that
    a skip raised in a step or fixture (the testbed has no SMA) passes through. Skips the project's own code
    places (the breaker's "not run") keep their place, so ``-rs`` still groups them in one line."""
    from .report.unstarted import scenario_template

    where, _, reason = report.longrepr  # type: ignore[misc]
    template = scenario_template(item)
    if template is None or item.config.rootpath in Path(str(where)).resolve().parents:
        return
    report.longrepr = (str(Path(template.feature.filename).resolve()), template.line_number, reason)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item: pytest.Item, nextitem: pytest.Item | None) -> Generator[None, Any, None]:
    """A Ctrl-C inside a scenario (or its restore) still leaves its Allure result (broken, "interrupted")."""
    outcome = yield
    excinfo = outcome.excinfo
    if excinfo is not None and issubclass(excinfo[0], KeyboardInterrupt) and SESSION_KEY in item.config.stash:
        from .report.interrupted import report_interrupted

        report_interrupted(item)


@pytest.hookimpl(hookwrapper=True, trylast=True)
def pytest_make_collect_report(collector: pytest.Collector) -> Generator[None, Any, None]:
    outcome = yield
    state = collector.config.stash.get(SESSION_KEY, None)
    if state is not None:
        masking.mask_report(outcome.get_result(), state.masker)


def _attach_lab_log(item: pytest.Item, state: CtrlabSession) -> None:
    """What the lab (the simulator process, the container) logged while the failed scenario ran."""
    mark = item.stash.get(LOG_MARK_KEY, None)
    if mark is None or state.backend is None:
        return
    text = state.backend.logs(since=mark)
    if text.strip():
        from .report.attachments import attach_text

        attach_text(f"{state.backend.name} lab log", text)  # masked on the way in


def _shorten_lab_fault(item: pytest.Item, excinfo: pytest.ExceptionInfo[BaseException], report: Any,
                       state: CtrlabSession) -> None:
    names = {cls.__name__ for cls in type(excinfo.value).__mro__}
    fault = next((n for n in _LAB_FAULTS if n in names), None)
    if fault is None:
        return
    message = str(excinfo.value).strip()
    step = item.stash.get(STEP_KEY, None)
    state.lab_faults.append(state.masker.mask(f"{type(excinfo.value).__name__}: {message.splitlines()[0]}"))
    from .outcomes import is_scenario

    if "AuthenticationFailed" in names and not item.session.shouldstop and is_scenario(item):
        # Wrong credentials will not fix themselves: stop instead of failing every scenario the same way.
        item.session.shouldstop = f"stopping: {state.masker.mask(message.splitlines()[0])}"
    if item.config.getoption("tbstyle", "auto") in ("long", "native"):
        return
    where = f" (in step: {step})" if step else ""
    hint = _HINTS.get(fault, "")
    report.longrepr = (f"{type(excinfo.value).__module__}.{type(excinfo.value).__name__}{where}: {message}"
                       + (f"\n  -> {hint}" if hint else ""))
