"""How ``pytest`` is invoked: the project's configuration whatever the form of the options or the folder.

Why this exists: pytest finds its rootdir and configuration file (``_pytest.config.Config.parse``)
*before* it loads plugins from entry points, so ctrlab's and Allure's options are still unknown then.
``pytest --testbed ../lab/tb.yaml`` or ``--alluredir /some/dir`` in the space form is parsed as an unknown
flag followed by a *positional path*; that path moves the rootdir (to the common ancestor, often ``/``)
and the run loses ``pyproject.toml``: no ``testpaths``, no timeout, no markers, ctrlab's own tests collected.
The ``=`` form has no such path. Once the plugins are loaded (``pytest_load_initial_conftests``, before
conftests, collection and the final parse), :func:`settle` parses the arguments again with every option
known, determines the setup the way pytest does, and puts the right rootdir and configuration in place.

It also lets ``pytest`` run from any folder: with a ctrlab option (``--testbed``, ``--backend``, ...)
or arguments inside the checkout, and no configuration file found where pytest looked, the checkout's
``pyproject.toml`` is used and no paths means the checkout's ``features/``. And it maps feature files
given as arguments (``pytest features/x.feature``) to the scenarios bound from them (:func:`feature_filter`).
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest

CHECKOUT = Path(__file__).resolve().parents[1]
SCENARIOS_MODULE = "test_scenarios.py"  # features/test_scenarios.py binds every feature file
# Options that say "run the conformance suite on this lab". Not --shard or --req-url-pattern: they select
# or label whatever the folder holds, so they do not pull a run in another folder into the checkout.
CTRLAB_DESTS = ("ctrlab_testbed", "ctrlab_backend", "ctrlab_allow_destructive", "ctrlab_region",
                "ctrlab_sim_appliances")
FEATURES_KEY = pytest.StashKey[list[Path]]()  # the feature files named on the command line


def _is_checkout_config(path: Path) -> bool:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError:
        return False
    return 'name = "ctrlab"' in text and "[tool.pytest.ini_options]" in text


def _inside(path: Path, folder: Path) -> bool:
    return path == folder or folder in path.parents


def settle(config: pytest.Config, args: list[str]) -> None:
    """Redo pytest's rootdir / configuration choice with every plugin option known (see the module doc)."""
    from _pytest.config.findpaths import determine_setup, load_config_dict_from_file

    if not all(hasattr(config, name) for name in ("_parser", "_rootpath", "_inipath", "_inicfg", "_inicache")):
        return  # a pytest whose internals moved (pyproject pins <9.2): the `=` form still works there
    parser = config._parser
    ns = parser.parse_known_args(list(args), namespace=copy.copy(config.option))
    invocation = config.invocation_params.dir
    paths = [a for a in ns.file_or_dir if not a.startswith("-")]
    rootpath, inipath, inicfg, _ = determine_setup(
        inifile=ns.inifilename, override_ini=ns.override_ini, args=paths,
        rootdir_cmd_arg=ns.rootdir or None, invocation_dir=invocation)
    own_config = CHECKOUT / "pyproject.toml"
    wants_ctrlab = any(getattr(ns, dest, None) not in (None, False) for dest in CTRLAB_DESTS)
    targets = [(invocation / p.split("::")[0]).resolve() for p in paths]
    in_checkout = bool(targets) and all(_inside(t, CHECKOUT) for t in targets)
    if inipath is None and not ns.rootdir and (wants_ctrlab or in_checkout) and _is_checkout_config(own_config):
        rootpath, inipath = CHECKOUT, own_config
        inicfg = {**(load_config_dict_from_file(own_config) or {}), **_overrides(ns.override_ini)}
        if not paths:  # `pytest --testbed x` from another folder: the suite, as from the checkout
            args.append(str(CHECKOUT / "features"))
    if rootpath == config.rootpath and inipath == config.inipath:
        return
    old_default_confcut = str(config.inipath.parent if config.inipath else config.rootpath)
    had_ini = config.inipath is not None
    config._rootpath, config._inipath, config._inicfg = rootpath, inipath, inicfg
    config._inicache.clear()
    parser.extra_info["rootdir"], parser.extra_info["inifile"] = str(rootpath), str(inipath)
    if not had_ini:  # pytest applied no ini addopts yet: apply the new configuration's now
        addopts = list(config.getini("addopts"))
        args[:0] = addopts
        config.pluginmanager.consider_preparse(addopts, exclude_only=False)
    known = config.known_args_namespace
    parser.parse_known_args(args, namespace=known)
    if known.confcutdir in (None, old_default_confcut) and not ns.confcutdir:
        known.confcutdir = str(inipath.parent if inipath else rootpath)


def _overrides(override_ini: list[str] | None) -> dict[str, Any]:
    from _pytest.config.findpaths import parse_override_ini

    return dict(parse_override_ini(override_ini))


def map_feature_args(config: pytest.Config, args: list[str]) -> None:
    """``features/x.feature`` (a file pytest cannot collect) -> the module binding it, filtered to that file."""
    base = config.rootpath / (config.getini("bdd_features_base_dir") or "features")
    module = str(base / SCENARIOS_MODULE)
    positional = set(config._parser.parse_known_args(list(args), namespace=copy.copy(config.option)).file_or_dir)
    wanted: list[Path] = []
    for index, arg in enumerate(args):
        if arg not in positional or not arg.split("::")[0].endswith(".feature"):
            continue
        path = (config.invocation_params.dir / arg.split("::")[0]).resolve()
        if not path.is_file():
            raise pytest.UsageError(f"{arg}: no such feature file")
        if not _inside(path, base.resolve()):
            raise pytest.UsageError(f"{arg}: only feature files under {base} are bound to scenarios "
                                    f"(by {module})")
        wanted.append(path)
        args[index] = module
    if wanted:
        first = args.index(module)  # the module named twice would be collected twice
        args[:] = [a for i, a in enumerate(args) if a != module or i == first]
        config.stash[FEATURES_KEY] = wanted


def feature_filter(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Keep only the scenarios of the feature files named on the command line."""
    wanted = config.stash.get(FEATURES_KEY, None)
    if not wanted:
        return
    from .report.unstarted import scenario_template

    keep, drop = [], []
    for item in items:
        template = scenario_template(item)
        filename = getattr(getattr(template, "feature", None), "filename", None)
        (keep if filename and Path(filename).resolve() in wanted else drop).append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep
