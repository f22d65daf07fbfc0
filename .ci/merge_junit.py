"""Merge the shards' junit files into one (for the report check): ``merge_junit.py OUT IN...``."""

from __future__ import annotations

import sys
import xml.etree.ElementTree as ET


def merge(out: str, inputs: list[str]) -> None:
    merged = ET.Element("testsuites")
    for path in inputs:
        root = ET.parse(path).getroot()
        merged.extend(root.iter("testsuite"))
    ET.ElementTree(merged).write(out, encoding="utf-8", xml_declaration=True)


if __name__ == "__main__":
    merge(sys.argv[1], sys.argv[2:])
