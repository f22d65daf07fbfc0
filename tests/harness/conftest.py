"""Fixtures of the harness's own tests.

``pytester`` is enabled by the test modules that need it (``pytest_plugins = ["pytester"]``): in a
conftest below the rootdir that declaration is refused when the run starts at ``tests/``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from .support import sample_testbed, write_testbed


@pytest.fixture
def tb_file(tmp_path: Path) -> Any:
    """``tb_file(data_or_text, name="tb.yaml") -> Path``: write a testbed file."""

    def make(data: dict[str, Any] | str | None = None, name: str = "tb.yaml") -> Path:
        return write_testbed(tmp_path / name, sample_testbed() if data is None else data)

    return make
