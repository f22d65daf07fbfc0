"""network.probe_timeout: the testbed says how long a network-check probe waits (a drop costs that much)."""

from __future__ import annotations

import pytest

from harness.testbed import TestbedError, validate_data

from .support import sample_testbed


def test_a_testbed_without_it_keeps_the_one_second_probe() -> None:
    assert validate_data(sample_testbed(), "tb.yaml", environ={}).network.probe_timeout == 1.0


def test_a_lab_that_answers_fast_says_so() -> None:
    data = sample_testbed(network={"probe_timeout": 0.5})
    assert validate_data(data, "tb.yaml", environ={}, check_files=False).network.probe_timeout == 0.5


def test_a_probe_timeout_of_zero_is_refused_naming_the_field() -> None:
    with pytest.raises(TestbedError, match="probe_timeout"):
        validate_data(sample_testbed(network={"probe_timeout": 0}), "tb.yaml", environ={}, check_files=False)
