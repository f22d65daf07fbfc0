"""Fixtures every test of ctrlab's own suite gets."""

from __future__ import annotations

import signal
from collections.abc import Iterator

import pytest

from harness.report import masking


def pytest_configure(config: pytest.Config) -> None:
    """Tests stop labs and pytest runs they start with Ctrl-C's signal. Started with SIGINT ignored (as
    `cmd &` in a non-interactive shell leaves it), every child would inherit that: take Python's own handler,
    which children get back as the default."""
    if signal.getsignal(signal.SIGINT) == signal.SIG_IGN:
        signal.signal(signal.SIGINT, signal.default_int_handler)


@pytest.fixture(autouse=True)
def _masker_of_the_test() -> Iterator[masking.Masker]:
    """The secrets a test's drivers learn are registered with a masker of that test: the fake secrets
    of one test ("secret", "s3cr3t-value") must not be masked in the test names and output of the run."""
    masker = masking.Masker()
    masking.push(masker)
    yield masker
    masking.pop(masker)
