"""The wrapper's pieces that need no guest: options, qemu's command line, the image checks, the testbed."""

from __future__ import annotations

import shutil
import stat
import subprocess
from pathlib import Path

import pytest
import yaml

from harness.testbed import TestbedError, load_testbed
from virtual_appliances.c100v import healthcheck
from virtual_appliances.c100v.cli import build_parser, settings_from_args
from virtual_appliances.c100v.health import HealthFile
from virtual_appliances.c100v.image import ImageError, backing_file, check_base_image, create_overlay
from virtual_appliances.c100v.qemu import PortForward, VmSpec, qemu_command
from virtual_appliances.c100v.testbed import (
    DeviceEntry,
    Endpoint,
    build_testbed,
    load_cloud_sections,
    password_field,
    remove_if_ours,
    render,
    write_atomically,
)

needs_qemu_img = pytest.mark.skipif(shutil.which("qemu-img") is None, reason="qemu-img not installed (qemu-utils)")


def _device(password_value: str = "ironport") -> DeviceEntry:
    return DeviceEntry(name="esa1", hostname="esa1.lab.example", version="13.0.0-392", username="admin",
                       password_value=password_value, cli=Endpoint("127.0.0.1", 2222),
                       gui=Endpoint("127.0.0.1", 8443), api=Endpoint("127.0.0.1", 6443),
                       smtp=Endpoint("127.0.0.1", 2525))


def test_settings_from_options_and_environment(tmp_path: Path) -> None:
    args = build_parser().parse_args(["--image", "x.qcow2", "--name", "esa2", "--testbed-out", str(tmp_path / "tb"),
                                      "--ssh-port", "2222", "--work-dir", str(tmp_path / "w")])
    env = {"QEMU_MEMORY": "4096", "QEMU_SMP": "4", "QEMU_ACCEL": "tcg", "QEMU_ADDITIONAL_ARGS": "-rtc base=utc",
           "C100V_SILENCE_TIMEOUT": "60"}
    s = settings_from_args(args, env)
    assert (s.memory_mb, s.smp, s.accel, s.extra_qemu_args) == (4096, 4, "tcg", ["-rtc", "base=utc"])
    assert s.hostname == "esa2.lab.example" and s.silence_timeout == 60
    assert s.host_ports == {"cli": 2222, "gui": 0, "api": 0, "smtp": 0}
    assert s.health_file == tmp_path / "w" / "health"
    assert settings_from_args(build_parser().parse_args([*_argv(tmp_path), "--memory", "1024"]), env).memory_mb == 1024


def _argv(tmp_path: Path) -> list[str]:
    return ["--image", "x.qcow2", "--testbed-out", str(tmp_path / "tb")]


def test_password_env_must_be_set(tmp_path: Path) -> None:
    args = build_parser().parse_args([*_argv(tmp_path), "--password-env", "ESA1_PASSWORD"])
    with pytest.raises(ValueError, match="ESA1_PASSWORD"):
        settings_from_args(args, {})
    assert settings_from_args(args, {"ESA1_PASSWORD": "x"}).password_env == "ESA1_PASSWORD"


def test_qemu_command_line() -> None:
    spec = VmSpec(name="esa1", overlay=Path("/w/o.qcow2"), console_socket=Path("/w/c.sock"),
                  monitor_socket=Path("/w/m.sock"), listen="127.0.0.1", memory_mb=2048, smp=2,
                  forwards=[PortForward("cli", 2222, 22), PortForward("api", 16443, 6443)], extra_args=["-snapshot"])
    cmd = qemu_command(spec, "tcg")
    line = " ".join(cmd)
    assert "-accel tcg -cpu max -m 2048 -smp 2" in line
    assert "-drive file=/w/o.qcow2,if=virtio,format=qcow2" in line
    assert "hostfwd=tcp:127.0.0.1:2222-10.0.2.15:22,hostfwd=tcp:127.0.0.1:16443-10.0.2.15:6443" in line
    assert "-device virtio-net-pci,netdev=mgmt" in line
    assert "socket,id=console,path=/w/c.sock,server=on,wait=on" in line and "-serial chardev:console" in line
    assert "-monitor unix:/w/m.sock,server=on,wait=off" in line and "-display none" in line
    assert cmd[-1] == "-snapshot"


@needs_qemu_img
def test_image_checks_and_overlay(tmp_path: Path) -> None:
    with pytest.raises(ImageError, match="no such file"):
        check_base_image(tmp_path / "missing.qcow2")
    raw = tmp_path / "disk.raw"
    raw.write_bytes(b"\0" * 65536)
    with pytest.raises(ImageError, match="not qcow2"):
        check_base_image(raw)
    base = tmp_path / "base.qcow2"
    subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", str(base), "16M"], check=True, timeout=30)
    overlay = tmp_path / "work" / "esa1-overlay.qcow2"
    create_overlay(check_base_image(base), overlay)
    assert backing_file(overlay) == str(base)


def test_testbed_validates_with_the_harness(tmp_path: Path) -> None:
    path = tmp_path / "lab" / "testbed.yaml"
    text = render(build_testbed(_device()), "esa1", placeholder_cloud=True)
    digest = write_atomically(path, text)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    testbed = load_testbed(path, environ={"SSE_REGISTRATION_TOKEN": "token"})
    device = testbed.devices["esa1"]
    assert (device.kind, device.model, device.version, device.hostname) == ("esa", "C100V", "13.0.0-392",
                                                                            "esa1.lab.example")
    assert device.connections.cli.port == 2222 and device.connections.smtp.port == 2525
    with pytest.raises(TestbedError, match="SSE_REGISTRATION_TOKEN is not set"):
        load_testbed(path, environ={})
    remove_if_ours(path, digest)
    assert not path.exists()


def test_testbed_names_the_password_variable_and_copies_the_cloud(tmp_path: Path) -> None:
    mine = tmp_path / "mine.yaml"
    mine.write_text(yaml.safe_dump({
        "devices": {"x": {}},
        "cloud": {"region": "eu", "sse": {"eu": {"admin_url": "https://sse.example", "api_key": "%ENV{SSE_KEY}"}}},
        "deadlines": {"registration": 900}}))
    doc = build_testbed(_device(password_field("ESA1_PASSWORD", "ironport")), cloud_from=load_cloud_sections(mine))
    path = tmp_path / "testbed.yaml"
    write_atomically(path, render(doc, "esa1", placeholder_cloud=False))
    assert "%ENV{ESA1_PASSWORD}" in path.read_text() and "ironport" not in path.read_text()
    testbed = load_testbed(path, environ={"ESA1_PASSWORD": "pw", "SSE_KEY": "k"})
    assert testbed.region == "eu" and testbed.deadlines.registration == 900
    assert testbed.devices["esa1"].password == "pw"


def test_health_file_and_healthcheck(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "health"
    monkeypatch.setenv("C100V_HEALTH_FILE", str(path))
    assert healthcheck.main() == 1  # no file yet: starting
    health = HealthFile(path)
    health.set(1, "bootstrapping")
    assert path.read_text() == "1 bootstrapping\n" and healthcheck.main() == 1
    health.set(0, "running\nsecond line dropped")
    assert path.read_text() == "0 running\n" and healthcheck.main() == 0
