"""The testbed: one YAML file describing a lab (docs/testbed.md), loaded into a validated model."""

from .envsubst import AskRefused, ask_on_terminal, every_field, fields_under, no_field
from .errors import TestbedError
from .loader import check_testbed, load_testbed, parse_testbed, validate_data
from .model import (
    KINDS,
    REGIONS,
    SECRET_FIELDS,
    Cloud,
    Connections,
    Credential,
    CtrRegion,
    Deadlines,
    Device,
    Network,
    Simulator,
    SseRegion,
    Testbed,
)
from .schema import json_schema, json_schema_text

DeviceInfo = Device  # the name fixtures and drivers use for one appliance's description

__all__ = [
    "KINDS", "REGIONS", "SECRET_FIELDS", "AskRefused", "Cloud", "Connections", "Credential", "CtrRegion", "Deadlines",
    "Device", "DeviceInfo", "Network", "Simulator", "SseRegion", "Testbed", "TestbedError", "ask_on_terminal",
    "check_testbed", "every_field", "fields_under", "json_schema", "json_schema_text", "load_testbed", "no_field",
    "parse_testbed", "validate_data",
]
