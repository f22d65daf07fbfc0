"""Check that the generated Allure HTML report holds the scenarios of the run.

    python .ci/check_allure_report.py reports/allure-report reports/features-junit.xml

Compares the report (Allure 3 `summary.json`) with the junit XML pytest wrote for the same run: the
same number of tests, the same number that passed, and a non-empty report. Also checks the report's
shape: one `index.html` at the top (no stale `awesome/` folder), the requirements page the `@req` links
point at (`npm run report` copies it), and every failed or broken test filed under one of ctrlab's
categories (harness/report/categories.json), not Allure's defaults.
"""

from __future__ import annotations

import json
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

CATEGORIES = Path(__file__).resolve().parents[1] / "harness" / "report" / "categories.json"


def junit_counts(path: str) -> tuple[int, int]:
    total = passed = 0
    for case in ET.parse(path).getroot().iter("testcase"):
        total += 1
        if not any(child.tag in ("failure", "error", "skipped") for child in case):
            passed += 1
    return total, passed


def shape_problems(report: Path) -> list[str]:
    problems = []
    if not (report / "index.html").is_file() or (report / "awesome").exists():
        problems.append("the report is not one index.html at the top (a stale awesome/ folder?)")
    if not (report / "requirements.html").is_file():
        problems.append("requirements.html is missing: generate with `npm run report`, which copies it")
    ours = {rule["name"] for rule in json.loads(CATEGORIES.read_text(encoding="utf-8"))["rules"]}
    for path in sorted((report / "data" / "test-results").glob("*.json")):
        result = json.loads(path.read_text(encoding="utf-8"))
        names = [c.get("name") for c in result.get("categories", [])]
        if result.get("status") in ("failed", "broken") and not set(names) & ours:
            problems.append(f"{result.get('name')!r} ({result.get('status')}) is in {names}, not a ctrlab category")
    return problems


def main(report_dir: str, junit_xml: str) -> int:
    stats = json.loads((Path(report_dir) / "summary.json").read_text())["stats"]
    total, passed = junit_counts(junit_xml)
    problems = []
    if stats.get("total", 0) == 0:
        problems.append("the report is empty")
    if stats.get("total", 0) != total:
        problems.append(f"the report holds {stats.get('total', 0)} tests, the run had {total}")
    if stats.get("passed", 0) != passed:
        problems.append(f"the report counts {stats.get('passed', 0)} passed, the run had {passed}")
    problems += shape_problems(Path(report_dir))
    for problem in problems:
        print(f"allure report: {problem}", file=sys.stderr)
    if not problems:
        print(f"allure report: {report_dir} holds the run's {total} scenarios ({stats})")
    return 1 if problems else 0


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    sys.exit(main(sys.argv[1], sys.argv[2]))
