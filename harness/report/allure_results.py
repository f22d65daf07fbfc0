"""What the harness adds to the Allure results directory.

* :class:`MaskingFileLogger` replaces allure-pytest-bdd's file writer: every string of every result,
  container, step name, step parameter, status message and attachment is masked as it is written, so
  no path into the report (a token in step text, an exception message, captured output) can leak.
* ``environment.properties`` (backend, testbed, region, appliance models and versions, simulator version)
  and ``categories.json`` (conformance failures apart from lab and harness faults; Allure 2 reads it,
  Allure 3 takes the same rules from ``allurerc.mjs``), written at session end, and also when a session
  aborts on a bad testbed.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from .masking import Masker, current
from .result_tidy import tidy

CATEGORIES_FILE = Path(__file__).with_name("categories.json")  # the one source; allurerc.mjs reads it too


def category_rules() -> list[dict[str, Any]]:
    """The Allure 3 category rules (``{name, matchers: {statuses, message}}``), first match wins."""
    return list(json.loads(CATEGORIES_FILE.read_text(encoding="utf-8"))["rules"])


def _allure2_regex(pattern: str) -> str:
    # Allure 2 matches the whole text (Java ``matches``); Allure 3 searches (JavaScript ``RegExp.test``).
    return "(?s)" + (pattern[1:] if pattern.startswith("^") else ".*" + pattern) + ".*"


def allure2_categories() -> list[dict[str, Any]]:
    out = []
    for rule in category_rules():
        entry: dict[str, Any] = {"name": rule["name"], "matchedStatuses": rule["matchers"]["statuses"]}
        if "message" in rule["matchers"]:
            entry["messageRegex"] = _allure2_regex(rule["matchers"]["message"])
        if "description" in rule:
            entry["description"] = rule["description"]
        out.append(entry)
    return out


CATEGORIES: list[dict[str, Any]] = allure2_categories()


def _write_atomic(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)


def write_categories(results_dir: Path) -> Path:
    results_dir.mkdir(parents=True, exist_ok=True)
    path = results_dir / "categories.json"
    _write_atomic(path, json.dumps(CATEGORIES, indent=2).encode("utf-8"))
    return path


def _property_line(key: str, value: str) -> str:
    # java.util.Properties syntax: escape separators in keys, backslashes and line breaks in values.
    key = key.replace("\\", "\\\\").replace(" ", "\\ ").replace("=", "\\=").replace(":", "\\:")
    value = value.replace("\\", "\\\\").replace("\n", "\\n").replace("\r", "")
    return f"{key}={value}"


def write_environment(results_dir: Path, properties: Mapping[str, object], masker: Masker | None = None) -> Path:
    masker = masker or current()
    results_dir.mkdir(parents=True, exist_ok=True)
    lines = [_property_line(k, masker.mask(str(v))) for k, v in properties.items() if v is not None and v != ""]
    path = results_dir / "environment.properties"
    _write_atomic(path, ("\n".join(lines) + "\n").encode("utf-8"))
    return path


def add_environment(results_dir: Path, properties: Mapping[str, object]) -> Path:
    """Add (or replace) lines of ``environment.properties``, keeping the others."""
    path = results_dir / "environment.properties"
    keep = []
    if path.is_file():
        new_keys = {_property_line(k, "").split("=", 1)[0] for k in properties}
        keep = [line for line in path.read_text(encoding="utf-8").splitlines()
                if line and line.split("=", 1)[0] not in new_keys]
    lines = keep + [_property_line(k, current().mask(str(v))) for k, v in properties.items()]
    _write_atomic(path, ("\n".join(lines) + "\n").encode("utf-8"))
    return path


# ---- masking writer ------------------------------------------------------------------------------------
def _masking_logger_class() -> type:
    # Imported lazily: the pytest plugin must stay cheap when Allure is not used.
    from allure_commons import hookimpl
    from allure_commons.logger import AllureFileLogger
    from attr import asdict

    class MaskingFileLogger(AllureFileLogger):  # type: ignore[misc]
        """``AllureFileLogger`` that masks every string and attachment it writes."""

        def _report_item(self, item: Any) -> None:
            indent = 4 if os.environ.get("ALLURE_INDENT_OUTPUT") else None
            filename = item.file_pattern.format(prefix=_uuid())
            data = tidy(current().mask_data(asdict(item, filter=lambda _, v: v or v is False)))
            _write_atomic(self._report_dir / filename,
                          json.dumps(data, indent=indent, ensure_ascii=False).encode("utf-8"))

        @hookimpl  # type: ignore[misc]
        def report_result(self, result: Any) -> None:
            self._report_item(result)

        @hookimpl  # type: ignore[misc]
        def report_container(self, container: Any) -> None:
            self._report_item(container)

        @hookimpl  # type: ignore[misc]
        def report_globals(self, globals_item: Any) -> None:
            self._report_item(globals_item)

        @hookimpl  # type: ignore[misc]
        def report_attached_data(self, body: Any, file_name: str) -> None:
            _write_atomic(self._report_dir / file_name, mask_attachment(body))

        @hookimpl  # type: ignore[misc]
        def report_attached_file(self, source: Any, file_name: str) -> None:
            _write_atomic(self._report_dir / file_name, mask_attachment(Path(source).read_bytes()))

    return MaskingFileLogger


def _uuid() -> str:
    import uuid

    return str(uuid.uuid4())


def mask_attachment(body: str | bytes) -> bytes:
    """Text is masked as text; binary data (a pcap, an image) byte-wise at the same length."""
    masker = current()
    if isinstance(body, str):
        return masker.mask(body).encode("utf-8")
    try:
        return masker.mask(body.decode("utf-8")).encode("utf-8")
    except UnicodeDecodeError:
        return masker.mask_bytes(body)


def install_masking_writer() -> list[Any]:
    """Swap every registered ``AllureFileLogger`` for a masking one; returns what to undo."""
    try:
        import allure_commons
        from allure_commons.logger import AllureFileLogger
    except ImportError:  # Allure not installed: nothing to protect
        return []
    masking_cls = _masking_logger_class()
    swapped: list[Any] = []
    for plugin in list(allure_commons.plugin_manager.get_plugins()):
        if type(plugin) is AllureFileLogger:
            name = allure_commons.plugin_manager.get_name(plugin)
            replacement = masking_cls(plugin._report_dir, clean=False)
            allure_commons.plugin_manager.unregister(plugin=plugin)
            allure_commons.plugin_manager.register(replacement, name=name)
            swapped.append((plugin, replacement, name))
    return swapped


def uninstall_masking_writer(swapped: list[Any]) -> None:
    import allure_commons

    for original, replacement, name in swapped:
        if allure_commons.plugin_manager.is_registered(replacement):
            allure_commons.plugin_manager.unregister(plugin=replacement)
            if not allure_commons.plugin_manager.is_registered(original):
                allure_commons.plugin_manager.register(original, name=name)


def read_text(path: Path) -> str:
    with open(path, encoding="utf-8", errors="replace") as handle:
        return handle.read()
