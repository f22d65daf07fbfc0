"""Fixtures shared by the driver tests: a background asyncio loop that hosts servers (fakes written
here, or the bundled simulators) which the synchronous drivers then reach over their protocols."""

from __future__ import annotations

from pathlib import Path

import asyncssh
import pytest

from tests.support.loop import session_loop

bg = session_loop()


@pytest.fixture(scope="session")
def host_key() -> asyncssh.SSHKey:
    return asyncssh.generate_private_key("ssh-ed25519")


@pytest.fixture(scope="session")
def lab_ca(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    """A CA the tests' HTTPS servers use; the drivers verify against its bundle like a real CA."""
    pki = pytest.importorskip("virtual_appliances.common.pki")
    return pki.LabCA(Path(tmp_path_factory.mktemp("ca")))

