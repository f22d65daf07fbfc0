"""Fixtures of the cloud client tests: a background loop for the local servers they talk to."""

from __future__ import annotations

from tests.support.loop import session_loop

bg = session_loop()
