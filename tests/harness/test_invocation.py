"""``pytest`` with path options in either form, from any folder, keeps the project's configuration.

pytest chooses its rootdir before it knows the plugins' options, so ``--testbed PATH`` in the space
form used to read ``PATH`` as a test path: the rootdir moved, ``pyproject.toml`` was lost and ctrlab's own
tests were collected (970 items). Each combination runs ``pytest --collect-only`` in a subprocess.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.harness.support import sample_testbed, write_testbed

ROOT = Path(__file__).resolve().parents[2]
TIMEOUT_S = 120


def collect(args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, "-m", "pytest", "--collect-only", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=TIMEOUT_S, check=False)


@pytest.fixture(scope="module")
def outside(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder outside the checkout with a testbed and a results folder in it."""
    folder = tmp_path_factory.mktemp("elsewhere")
    (folder / "lab").mkdir()
    (folder / "results").mkdir()  # an existing folder: the space form used to take it for a test path
    write_testbed(folder / "lab" / "tb.yaml", sample_testbed(simulator=False))
    return folder


def node_ids(out: str) -> list[str]:
    return [line for line in out.splitlines() if "::" in line and not line.startswith(" ")]


COMBINATIONS = [
    ("checkout", ["-q", "--testbed", "{lab}/tb.yaml"]),
    ("checkout", ["-q", "--testbed={lab}/tb.yaml"]),
    ("checkout", ["-q", "--backend", "sim", "--alluredir", "{out}/results"]),
    ("checkout", ["-q", "--backend=sim", "--alluredir={out}/results"]),
    ("outside", ["-q", "--testbed", "{lab}/tb.yaml", "--alluredir", "{out}/results"]),
    ("outside", ["-q", "--alluredir={out}/results", "--testbed={lab}/tb.yaml"]),
    ("outside", ["-q", "--backend", "sim"]),
    ("outside", ["-q", "{root}/features"]),
]


@pytest.mark.parametrize(("where", "args"), COMBINATIONS, ids=[" ".join(a) for _, a in COMBINATIONS])
def test_the_suite_is_collected_with_the_projects_configuration(where: str, args: list[str], outside: Path) -> None:
    values = {"lab": str(outside / "lab"), "out": str(outside), "root": str(ROOT)}
    done = collect([a.format(**values) for a in args], ROOT if where == "checkout" else outside)
    out = done.stdout + done.stderr
    assert done.returncode == 0, out[-3000:]
    ids = node_ids(done.stdout)
    assert ids, out[-3000:]
    strays = [i for i in ids if not i.startswith("features/")]
    assert not strays, f"collected outside features/ (rootdir moved?): {strays[:5]}"


@pytest.mark.parametrize("form", ["space", "equals"])
def test_the_header_names_the_checkouts_rootdir_configfile_and_timeout(form: str, outside: Path) -> None:
    tb = str(outside / "lab" / "tb.yaml")
    args = ["--testbed", tb] if form == "space" else [f"--testbed={tb}"]
    done = collect([*args, "--alluredir", str(outside / "results")], outside)
    assert done.returncode == 0, (done.stdout + done.stderr)[-3000:]
    assert f"rootdir: {ROOT}" in done.stdout, done.stdout[:2000]
    assert "configfile: pyproject.toml" in done.stdout, done.stdout[:2000]
    assert "timeout: 300.0s" in done.stdout, done.stdout[:2000]


def test_one_feature_file_runs_its_scenarios_only(outside: Path) -> None:
    feature = ROOT / "features" / "tokens.feature"
    done = collect(["-q", str(feature.relative_to(ROOT))], ROOT)
    assert done.returncode == 0, (done.stdout + done.stderr)[-3000:]
    ids = node_ids(done.stdout)
    names = set(re.findall(r"^\s*Scenario(?: Outline)?: (.+)$", feature.read_text(encoding="utf-8"), re.M))
    assert ids and len(ids) >= len(names), done.stdout[-2000:]
    bound = {line.split("::")[1] for line in ids}
    assert len(bound) < 200, "the whole suite was collected"
    from_other = collect(["-q", str(feature)], outside)  # an absolute path, from another folder
    assert node_ids(from_other.stdout) == ids, from_other.stdout[-2000:]


def test_a_missing_feature_file_is_one_line(outside: Path) -> None:
    done = collect(["-q", "features/no_such.feature"], ROOT)
    assert done.returncode == 4
    assert "features/no_such.feature: no such feature file" in done.stderr, done.stderr


def test_one_feature_file_on_xdist_workers_runs_that_feature_only(tmp_path: Path) -> None:
    """The workers get the controller's (mapped) arguments: the feature files must travel with them."""
    feature = ROOT / "features" / "versions.feature"
    outlines = len(re.findall(r"^\s*\|", feature.read_text(encoding="utf-8"), re.M))
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-n", "2", "-q",
                           "features/versions.feature", "--alluredir", str(tmp_path / "results"),
                           "-o", f"ctrlab_reports_dir={tmp_path / 'reports'}"],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, (done.stdout + done.stderr)[-3000:]
    passed = int(re.search(r"(\d+) passed", done.stdout).group(1))  # type: ignore[union-attr]
    assert 0 < passed < outlines + 5, done.stdout[-2000:]
