"""The testbed: one YAML file describing a lab (docs/testbed.md), loaded into a validated model."""

from .errors import TestbedError
from .loader import load_testbed, parse_testbed, validate_data
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
    "KINDS", "REGIONS", "SECRET_FIELDS", "Cloud", "Connections", "Credential", "CtrRegion", "Deadlines", "Device",
    "DeviceInfo", "Network", "Simulator", "SseRegion", "Testbed", "TestbedError", "json_schema", "json_schema_text",
    "load_testbed", "parse_testbed", "validate_data",
]
