"""Clusters: clustermode, the machine-mode restriction (ENA-7, REG-10) and joining (REG-7)."""

from __future__ import annotations

import pytest

from virtual_appliances.asyncos import messages as msg

from .support import CliLab, ExecResult, registered

P = "mail1.example.com> "
CLUSTER = "(Cluster ctrlab-cluster)> "
MACHINE = "(Machine mail1.example.com)> "
RESTRICTED = '\nThis command is restricted to "machine" mode. Would you like to switch to "machine" mode? [Y]> '


@pytest.fixture
def clustered(esa: CliLab) -> CliLab:
    created = ExecResult(0, "\nCluster ctrlab-cluster has been created.\n\n")
    assert esa.exec("clusterconfig new ctrlab-cluster") == created
    return esa


def test_clustermode_on_a_standalone_appliance(esa: CliLab) -> None:
    with esa.shell() as shell:
        assert shell.dialog("clustermode cluster") == (
            f"{P}clustermode cluster\n\nUnknown command or missing feature key: clustermode\n\n{P}")
    assert esa.exec("clustermode machine").status == 1


def test_clustermode_switches_modes_and_the_prompt(clustered: CliLab) -> None:
    with clustered.shell() as shell:
        assert shell.banner.endswith(f"\n\n{CLUSTER}")
        assert shell.dialog("clustermode machine") == f"{CLUSTER}clustermode machine\n{MACHINE}"
        assert shell.dialog("clustermode group Main_Group") == (
            f"{MACHINE}clustermode group Main_Group\n(Group Main_Group)> ")
        assert shell.dialog("clustermode", "bogus", "1") == (
            "(Group Main_Group)> clustermode\n\n"
            "Choose the configuration mode:\n1. Cluster ctrlab-cluster\n2. Group Main_Group\n"
            "3. Machine mail1.example.com\n[]> bogus\n\n"
            "Choose the configuration mode:\n1. Cluster ctrlab-cluster\n2. Group Main_Group\n"
            f"3. Machine mail1.example.com\n[]> 1\n{CLUSTER}")
        assert shell.dialog("clustermode planet").endswith(
            "Invalid arguments.\nUsage: clustermode cluster | group [<name>] | machine [<name>]\n\n" + CLUSTER)


@pytest.mark.parametrize("mode", ["cluster", "group"])
@pytest.mark.parametrize("command", ["threatresponseconfig", "cloudserviceconfig"])
def test_restricted_to_machine_mode_declined(clustered: CliLab, mode: str, command: str) -> None:
    with clustered.shell() as shell:
        shell.dialog(f"clustermode {mode}")
        prompt = shell.waiting_at
        assert shell.dialog(command, "n") == f"{prompt}{command}\n{RESTRICTED}n\n{prompt}"


def test_switching_to_machine_mode_continues_the_command(clustered: CliLab) -> None:
    with clustered.shell() as shell:
        assert shell.dialog("threatresponseconfig", "", "enable") == (
            f"{CLUSTER}threatresponseconfig\n{RESTRICTED}\n\n"
            "Choose the operation you want to perform:\n"
            "- ENABLE - To enable the Cisco Threat Response feature on your appliance.\n\n[]> enable\n\n"
            f"{msg.TRC_ENABLED}\n\n{MACHINE}")
        assert "Changes committed:" in shell.dialog("commit", "cluster member")


def test_batch_commands_do_not_switch_modes(clustered: CliLab) -> None:
    assert clustered.exec("threatresponseconfig enable") == ExecResult(1, f"\n{msg.MACHINE_MODE_ONLY}\n\n")
    assert clustered.exec("cloudserviceconfig status") == ExecResult(1, f"\n{msg.MACHINE_MODE_ONLY}\n\n")
    assert clustered.exec('clustermode machine; threatresponseconfig enable; commit "batch"').status == 0


def test_a_registered_appliance_cannot_join_a_cluster(esa: CliLab) -> None:
    """REG-7: deregister first, then join."""
    registered(esa)
    join = "clusterconfig join esa2.example.com admin secret Main_Group"
    assert esa.exec(join) == ExecResult(1, f"\n{msg.DEREGISTER_BEFORE_CLUSTER}\n\n")
    with esa.shell() as shell:
        assert shell.banner.endswith(f"\n\n{P}")  # still standalone
    assert esa.exec("cloudserviceconfig deregister").status == 0
    esa.on_server(lambda: esa.appliance.connector_result("deregister", True))
    assert esa.exec(join) == ExecResult(0, "\nThe appliance has joined the cluster esa2.example.com.\n\n")
    with esa.shell() as shell:
        assert shell.banner.endswith("\n\n(Cluster esa2.example.com)> ")


def test_clusterconfig_needs_its_arguments(esa: CliLab) -> None:
    result = esa.exec("clusterconfig join esa2.example.com")
    assert result.status == 1
    assert result.output.startswith("\nInvalid arguments.\nUsage: clusterconfig join")
