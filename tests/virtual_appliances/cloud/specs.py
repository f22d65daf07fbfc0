"""Validate response bodies against Cisco's swagger 2.0 definitions (reference/specs/*.json) with jsonschema.

The specs are not copied into the repository; ``CTRLAB_SPECS_DIR`` names their directory (default: the
project's shared reference copy). Swagger 2.0 definitions are JSON Schema draft 4 plus ``x-`` keywords,
which jsonschema ignores; local ``#/definitions/...`` references resolve inside the loaded document.
"""

from __future__ import annotations

import functools
import json
import os
from pathlib import Path
from typing import Any

import jsonschema
import pytest

DEFAULT_DIR = Path("/work/shared/reference/specs")


def specs_dir() -> Path:
    return Path(os.environ.get("CTRLAB_SPECS_DIR", str(DEFAULT_DIR)))


@functools.cache
def _definitions(spec: str) -> dict[str, Any]:
    path = specs_dir() / f"{spec}.json"
    if not path.exists():
        pytest.skip(f"the swagger spec {path} is not available (set CTRLAB_SPECS_DIR)")
    return dict(json.loads(path.read_text())["definitions"])


@functools.cache
def _validator(spec: str, definition: str) -> jsonschema.Draft4Validator:
    schema = {"$ref": f"#/definitions/{definition}", "definitions": _definitions(spec)}
    return jsonschema.Draft4Validator(schema)


def assert_valid(spec: str, definition: str, body: Any) -> None:
    """Fail with every violation listed when ``body`` does not conform to ``spec``'s ``definition``."""
    problems = sorted(_validator(spec, definition).iter_errors(body), key=lambda e: list(e.absolute_path))
    assert not problems, f"{spec}#{definition}: " + "; ".join(
        f"{'/'.join(map(str, e.absolute_path)) or '<root>'}: {e.message}" for e in problems[:10])


def assert_array_of(spec: str, definition: str, body: Any) -> None:
    assert isinstance(body, list), f"expected an array of {definition}, got {type(body).__name__}"
    for item in body:
        assert_valid(spec, definition, item)
