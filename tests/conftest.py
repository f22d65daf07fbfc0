"""Fixtures every test of ctrlab's own suite gets."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from harness.report import masking


@pytest.fixture(autouse=True)
def _masker_of_the_test() -> Iterator[masking.Masker]:
    """The secrets a test's drivers learn are registered with a masker of that test: the fake secrets
    of one test ("secret", "s3cr3t-value") must not be masked in the test names and output of the run."""
    masker = masking.Masker()
    masking.push(masker)
    yield masker
    masking.pop(masker)
