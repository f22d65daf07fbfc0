"""AsyncOSCli against the simulator's SSH CLI: the seed 003 dialogs, over SSH only."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import asyncssh
import pytest

from harness.appliance.asyncos_cli import AsyncOSCli, Secret
from harness.errors import AuthenticationFailed, CliError, LabUnreachable
from tests.support.loop import BackgroundLoop
from tests.support.servers import close_server
from tests.support.ssh_trust import trusting

ssh_cli = pytest.importorskip("virtual_appliances.asyncos.ssh_cli", reason="simulator SSH CLI not there yet")
model = pytest.importorskip("virtual_appliances.asyncos.model")
clock_mod = pytest.importorskip("virtual_appliances.common.clock")

PASSWORD = "cli-Passw0rd-123"
HOST = "esa1.example.com"


def flat(text: str) -> str:
    return " ".join(text.split())


@dataclass
class SimCli:
    appliance: Any
    port: int
    host_key: asyncssh.SSHKey


def _appliance(version: str = "13.0.0-392") -> Any:
    spec = model.ApplianceSpec(name="esa1", hostname=HOST, version=version)
    return model.Appliance(spec, clock_mod.SimClock(speed=1.0), PASSWORD)


@pytest.fixture(params=["13.0.0-392"])
def sim(request: pytest.FixtureRequest, bg: BackgroundLoop, host_key: asyncssh.SSHKey) -> Iterator[SimCli]:
    appliance = _appliance(request.param)
    server = bg.run(ssh_cli.start_ssh_server(appliance, "127.0.0.1", 0, host_key))
    yield SimCli(appliance, server.sockets[0].getsockname()[1], host_key)
    bg.run(close_server(server))


@pytest.fixture
def cli(sim: SimCli) -> Iterator[AsyncOSCli]:
    driver = AsyncOSCli("127.0.0.1", sim.port, "admin", PASSWORD, name="esa1", timeout=5,
                        host_trust=trusting(sim.host_key, sim.port, "esa1"))
    yield driver
    driver.close()


def test_login_banner_and_prompt(cli: AsyncOSCli) -> None:
    banner = cli.connect()
    assert cli.prompt == f"{HOST}> "
    assert "AsyncOS 13.0.0 for Cisco C100V build 392" in banner


def test_version(cli: AsyncOSCli) -> None:
    out = cli.run("version")
    assert "Version: 13.0.0-392" in out
    assert "Model: C100V" in out


def test_threatresponseconfig_enable_then_commit(cli: AsyncOSCli, sim: SimCli) -> None:
    text = cli.converse("threatresponseconfig", ["enable"])
    assert "- ENABLE - To enable the Cisco Threat Response feature on your appliance." in text  # ENA-6
    assert "DISABLE" not in text
    assert "is currently enabled on your appliance. Use the cloudserviceconfig command" in flat(text)
    assert not sim.appliance.committed.enabled  # staged only
    done = cli.commit("enable CTR")
    assert "Please enter some comments describing your changes:" in done
    assert "Changes committed: " in done
    assert sim.appliance.committed.enabled
    assert sim.appliance.last_commit_comment == "enable CTR"
    again = cli.converse("threatresponseconfig", ["disable"])  # only DISABLE is offered now
    assert "- DISABLE - To disable" in again and "ENABLE -" not in again


def test_nothing_to_commit_is_returned_not_raised(cli: AsyncOSCli) -> None:
    assert "There is no data to commit." in cli.commit("nothing")


def test_register_settrs_and_status(cli: AsyncOSCli, sim: SimCli) -> None:
    cli.converse("threatresponseconfig", ["enable"])
    cli.commit("")
    not_ready = cli.converse("cloudserviceconfig", ["register"])  # TS-3: still busy, no token asked
    assert "Enter a registration token" not in not_ready
    sim.appliance.clock.advance(model.BUSY_SECONDS + 1)
    settrs = cli.converse("cloudserviceconfig", ["settrs", "2"])  # REG-4
    assert "2. EUROPE (api.eu.sse.itd.cisco.com)" in settrs
    assert "Selected threat response server is api.eu.sse.itd.cisco.com." in settrs
    assert 'Make sure you run "commit" to make these changes active.' in settrs
    cli.commit("to EU")
    token = "0123456789abcdef0123456789abcdef"
    text = cli.converse("cloudserviceconfig", ["register", Secret(token)])
    assert "Enter a registration token key to register your appliance" in flat(text)
    assert "The appliance registration is in progress." in text  # REG-3
    assert token not in cli.transcript.render()


def test_unknown_command_and_missing_feature_key(cli: AsyncOSCli) -> None:
    with pytest.raises(CliError, match="Unknown command"):
        cli.run("uname -a")
    with pytest.raises(CliError, match="missing feature key"):
        cli.run("clustermode cluster")  # a standalone box has no clustermode
    assert "Version:" in cli.run("version")


def test_cluster_modes_relearn_the_prompt(cli: AsyncOSCli, sim: SimCli) -> None:
    sim.appliance.join_cluster("Example.com-Cluster")  # what clusterconfig join would do
    cli.run("clustermode cluster")
    assert cli.prompt == "(Cluster Example.com-Cluster)> "
    assert cli.mode == "cluster"
    with pytest.raises(CliError, match="machine"):
        cli.run("threatresponseconfig")  # ENA-7: restricted to machine mode, offers to switch
    cli.run("clustermode machine")
    assert cli.prompt == f"(Machine {HOST})> "
    assert "- ENABLE" in cli.converse("threatresponseconfig", [""])


def test_exec_batch(cli: AsyncOSCli, sim: SimCli) -> None:
    status, out = cli.exec(["threatresponseconfig enable", 'commit "batch enable"'])
    assert status == 0, out
    assert "Changes committed:" in out
    assert sim.appliance.committed.enabled
    bad = cli.exec("nosuchcommand")
    assert bad.exit_status == 1 and "Unknown command" in bad.output


def test_drop_fault_mid_session_is_lab_unreachable(cli: AsyncOSCli, sim: SimCli) -> None:
    cli.connect()
    assert cli.run("version")
    sim.appliance.faults.drop_ssh_after = 1  # consumed by the next login
    cli.close()
    with pytest.raises(LabUnreachable, match="Version:"):  # the output came, the prompt never did
        cli.run("version")
    assert "Version:" in cli.run("version")  # reconnected


def test_wrong_password(sim: SimCli) -> None:
    with pytest.raises(AuthenticationFailed):
        AsyncOSCli("127.0.0.1", sim.port, "admin", "nope-nope", timeout=5,
                   host_trust=trusting(sim.host_key, sim.port)).connect()


def test_securex_era_commit_asks_the_rollback_question(bg: BackgroundLoop, host_key: asyncssh.SSHKey) -> None:
    appliance = _appliance("14.0.0-657")
    server = bg.run(ssh_cli.start_ssh_server(appliance, "127.0.0.1", 0, host_key))
    try:
        port = server.sockets[0].getsockname()[1]
        with AsyncOSCli("127.0.0.1", port, "admin", PASSWORD, timeout=5, host_trust=trusting(host_key, port)) as cli:
            cli.converse("threatresponseconfig", ["enable"])
            text = cli.commit("with rollback")
            assert "Do you want to save the current configuration for rollback? [Y]>" in text
            assert "Changes committed:" in text
    finally:
        bg.run(close_server(server))
