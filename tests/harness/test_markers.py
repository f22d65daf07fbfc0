"""``pytest --markers`` lists every marker the features use, area tags included (issue 16)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from harness import tags

ROOT = Path(__file__).resolve().parents[2]


def test_area_tags_are_read_from_the_feature_files(tmp_path: Path) -> None:
    (tmp_path / "a.feature").write_text("@billing @req:ENA-1 @gui\nFeature: a\n  @billing @refunds # note @x\n"
                                        "  Scenario: s\n    Given x\n  @destrutive\n  Scenario: t\n")
    assert tags.area_tags(tmp_path) == {"billing": ["a.feature"], "refunds": ["a.feature"]}  # typo left out


def test_pytest_markers_lists_the_area_markers_of_the_features() -> None:
    used = set(tags.area_tags(ROOT / "features"))
    assert {"registration", "enabling", "troubleshooting"} <= used
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH")) if p)}
    done = subprocess.run([sys.executable, "-m", "pytest", "--markers", "-p", "no:cacheprovider"], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    listed = set(re.findall(r"^@pytest\.mark\.([\w]+)", done.stdout, re.M))
    assert used <= listed, sorted(used - listed)
    assert {"req", "region", "device", "manual", "gui", "cli", "destructive"} <= listed
    assert "@pytest.mark.registration: Gherkin area tag @registration (registration.feature)" in done.stdout
