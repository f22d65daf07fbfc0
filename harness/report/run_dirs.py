"""Where a run writes its reports, so that no run clobbers another's.

* ``pytest`` (the features) writes ``reports/allure-results`` and ``reports/sim-lab.log`` of the checkout.
* ``pytest tests`` (ctrlab's own tests) must leave them alone, also through the feature runs its tests
  start in subprocesses (``pytest features --testbed ...``): such a run gets a temporary reports folder,
  exported as ``CTRLAB_REPORTS_DIR`` so that every ctrlab session it starts in the same checkout uses it
  too. It is removed when the run ends. Sessions in other folders (pytester projects) are not affected,
  nor is an explicit ``-o ctrlab_reports_dir=...``.
* The results folder is emptied when the run starts running tests (:func:`clean_results`), not at
  configure time: ``--collect-only``, a usage error (a misspelt path) or a collection error leave the
  previous report's results in place.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path

REPORTS_ENV = "CTRLAB_REPORTS_DIR"
DEFAULT_REPORTS = "reports"
CHECKOUT = Path(__file__).resolve().parents[2]


def is_checkout(rootpath: Path) -> bool:
    return rootpath.resolve() == CHECKOUT


def private_reports_dir(rootpath: Path, configured: str, runs_features: bool
                        ) -> tuple[Path | None, Callable[[], None] | None]:
    """The reports folder to use instead of the configured one, and how to remove it (None: keep as is)."""
    if configured not in ("", DEFAULT_REPORTS) or not is_checkout(rootpath):
        return None, None
    inherited = os.environ.get(REPORTS_ENV)
    if inherited:
        return Path(inherited), None
    if runs_features:
        return None, None
    path = Path(tempfile.mkdtemp(prefix="ctrlab-reports-"))
    os.environ[REPORTS_ENV] = str(path)

    def remove() -> None:
        if os.environ.get(REPORTS_ENV) == str(path):
            del os.environ[REPORTS_ENV]
        shutil.rmtree(path, ignore_errors=True)

    return path, remove


def clean_results(results: Path) -> None:
    """Empty a results folder before the run writes to it (what ``--clean-alluredir`` does, but later)."""
    if not results.is_dir():
        results.mkdir(parents=True, exist_ok=True)
        return
    for entry in results.iterdir():
        if entry.is_dir() and not entry.is_symlink():
            shutil.rmtree(entry, ignore_errors=True)
        else:
            entry.unlink(missing_ok=True)
