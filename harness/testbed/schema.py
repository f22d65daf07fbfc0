"""The testbed's JSON schema, for editors (yaml-language-server) and for ``ctrlab testbed schema``."""

from __future__ import annotations

import json
from typing import Any

from .model import Testbed

SCHEMA_ID = "https://ctrlab.invalid/schemas/testbed.schema.json"  # an identifier, not a download location


def json_schema() -> dict[str, Any]:
    schema = Testbed.model_json_schema(mode="validation")
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", "$id": SCHEMA_ID,
            "title": "ctrlab testbed", **{k: v for k, v in schema.items() if k != "title"}}


def json_schema_text() -> str:
    return json.dumps(json_schema(), indent=2, sort_keys=False)
