"""The requirement catalogue as pages a requirement link can point at, with this run's coverage.

* ``docs/requirements.md`` (in the repository): one anchor per ID (``docs/requirements.md#ENA-5``),
  generated from ``harness/requirements.yaml``; a test keeps it current::

      python -m harness.report.requirements_page --markdown docs/requirements.md

* ``requirements.html`` (in the Allure results, copied into the report by ``npm run report``): the same
  catalogue with what this run did for each ID: passed, failed (a product finding), broken (a lab or
  harness fault), skipped, or not run. The scenarios' ``@req`` links point at it
  (``requirements.html#ENA-5``, ini ``ctrlab_req_url_pattern``), so they resolve in the served report.
  The counts are also in the report's environment section.
"""

from __future__ import annotations

import argparse
import html
import json
import sys
from collections.abc import Mapping
from pathlib import Path

from ..catalogue import Catalogue, load

PAGE = "requirements.html"
# Worst first: a requirement is as good as its worst scenario in this run.
ORDER = ("failed", "broken", "passed", "skipped", "unknown")
NOT_RUN = "not run"
Coverage = dict[str, list[tuple[str, str]]]  # ID -> [(scenario name, status)]


# ---- docs/requirements.md -------------------------------------------------------------------------
def render_markdown(catalogue: Catalogue) -> str:
    lines = ["# Requirements", "",
             "The requirement catalogue the scenarios are tagged with (`@req:<ID>`), one anchor per ID.",
             "Generated from `harness/requirements.yaml` by "
             "`python -m harness.report.requirements_page --markdown docs/requirements.md`; do not edit by hand.",
             "Document numbers refer to the source documents listed in REQUIREMENTS.md.", ""]
    for key, title in catalogue.groups.items():
        lines += [f"## {key}: {title}", ""]
        for req in catalogue.requirements.values():
            if req.group != key:
                continue
            qualifier = f" ({req.qualifier})" if req.qualifier else ""
            lines += [f'<a id="{req.id}"></a>', "", f"### {req.id}{qualifier}", "", req.statement, "",
                      f"Documents: {', '.join(req.documents) or 'none'}", ""]
    return "\n".join(lines).rstrip() + "\n"


# ---- coverage of a run ----------------------------------------------------------------------------
def coverage_from_results(results_dir: Path) -> Coverage:
    """ID -> the scenarios of the results that link to it, with their status (from the results files)."""
    found: Coverage = {}
    for path in sorted(results_dir.glob("*-result.json")):
        try:
            result = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        ids = [link.get("name", "") for link in result.get("links", []) if link.get("type") == "requirement"]
        for rid in dict.fromkeys(ids):
            found.setdefault(rid, []).append((str(result.get("name", "")), str(result.get("status", "unknown"))))
    return found


def requirement_status(scenarios: list[tuple[str, str]]) -> str:
    if not scenarios:
        return NOT_RUN
    return min((status for _, status in scenarios), key=lambda s: ORDER.index(s) if s in ORDER else len(ORDER))


def summary(catalogue: Catalogue, coverage: Mapping[str, list[tuple[str, str]]]) -> dict[str, int]:
    counts = dict.fromkeys([*ORDER[:4], NOT_RUN], 0)
    for rid in catalogue.ids():
        status = requirement_status(list(coverage.get(rid, [])))
        counts[status] = counts.get(status, 0) + 1
    return counts


def summary_line(counts: Mapping[str, int]) -> str:
    return ", ".join(f"{n} {status}" for status, n in counts.items()) + f" (see {PAGE})"


_STYLE = """body{font:14px/1.45 system-ui,sans-serif;margin:2em auto;max-width:60em;padding:0 1em;color:#222}
table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:.2em .6em;text-align:left}
.failed{color:#c0392b}.broken{color:#b9770e}.passed{color:#1e8449}.skipped,.not.run{color:#7f8c8d}
section{border-top:1px solid #ddd;padding:.4em 0}section:target{background:#fff8dc}h3{margin:.2em 0}
.status{font-weight:bold;text-transform:uppercase;font-size:12px}"""


def render_html(catalogue: Catalogue, coverage: Mapping[str, list[tuple[str, str]]], title: str = "") -> str:
    esc = html.escape
    counts = summary(catalogue, coverage)
    out = ["<!doctype html><html><head><meta charset='utf-8'>",
           f"<title>{esc(title or 'ctrlab requirements')}</title><style>{_STYLE}</style></head><body>",
           f"<h1>{esc(title or 'Requirements and their coverage in this run')}</h1>",
           "<table><tr><th>requirements</th>" + "".join(f"<th class='{s}'>{s}</th>" for s in counts) + "</tr>",
           f"<tr><td>{len(catalogue.ids())}</td>" + "".join(f"<td>{n}</td>" for n in counts.values()) + "</tr></table>",
           "<p>A requirement is as good as its worst scenario: failed (the product did not do what the documents "
           "say), broken (a lab or harness fault), passed, skipped, or not run (no scenario ran for it).</p>"]
    for key, group_title in catalogue.groups.items():
        out.append(f"<h2>{esc(key)}: {esc(group_title)}</h2>")
        for req in catalogue.requirements.values():
            if req.group != key:
                continue
            scenarios = list(coverage.get(req.id, []))
            status = requirement_status(scenarios)
            items = "".join(f"<li><span class='{esc(s)}'>{esc(s)}</span> {esc(n)}</li>" for n, s in scenarios)
            out.append(f"<section id='{esc(req.id)}'><h3>{esc(req.id)} "
                       f"<span class='status {esc(status)}'>{esc(status)}</span></h3>"
                       f"<p>{esc(req.statement)}</p><p>Documents: {esc(', '.join(req.documents))}</p>"
                       + (f"<ul>{items}</ul>" if items else "") + "</section>")
    out.append("</body></html>")
    return "\n".join(out)


def write_page(results_dir: Path, catalogue: Catalogue | None = None) -> dict[str, int]:
    """Write ``requirements.html`` for the results in ``results_dir``; returns the counts per status."""
    cat = catalogue or load()
    coverage = coverage_from_results(results_dir)
    (results_dir / PAGE).write_text(render_html(cat, coverage), encoding="utf-8")
    return summary(cat, coverage)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m harness.report.requirements_page",
                                     description="write docs/requirements.md or a run's requirements.html")
    parser.add_argument("--markdown", type=Path, help="write the catalogue as Markdown here (docs/requirements.md)")
    parser.add_argument("--results", type=Path, help="an Allure results folder: write its requirements.html")
    args = parser.parse_args(argv)
    if args.markdown:
        args.markdown.write_text(render_markdown(load()), encoding="utf-8")
        print(f"{args.markdown}: written")
    if args.results:  # e.g. after merging the results of CI shards: the page and the environment line anew
        from .allure_results import add_environment

        line = summary_line(write_page(args.results))
        add_environment(args.results, {"requirements": line})
        print(f"{args.results / PAGE}: {line}")
    if not (args.markdown or args.results):
        parser.print_usage(sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
