"""The fork server (harness/forkserver/server.py), spoken to over its Unix socket as the harness speaks to it."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
SERVER = ROOT / "harness" / "forkserver" / "server.py"
DEADLINE_S = 60.0


@pytest.fixture
def server(tmp_path: Path) -> Iterator[tuple[subprocess.Popen[bytes], Path]]:
    path = tmp_path / "fork.sock"
    with socket.socket(socket.AF_UNIX) as listener:
        listener.bind(str(path))
        listener.listen(8)
        process = subprocess.Popen([sys.executable, str(SERVER), "--listen-fd", str(listener.fileno()),
                                    "--preload", "yaml"], cwd=ROOT, pass_fds=(listener.fileno(),),
                                   stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                   env={**os.environ, "PYTHONPATH": str(ROOT)})
    try:
        yield process, path
    finally:
        if process.poll() is None:
            process.terminate()
            process.wait(timeout=30)
        assert process.stdout is not None
        process.stdout.close()


def ask(path: Path, tmp_path: Path, name: str, *extra: str) -> tuple[socket.socket, Path, Path]:
    """Ask for a lab with one ESA; returns the connection, the testbed path and the log."""
    testbed, log = tmp_path / f"{name}.yaml", tmp_path / f"{name}.log"
    conn = socket.socket(socket.AF_UNIX)
    conn.settimeout(DEADLINE_S)
    conn.connect(str(path))
    request = {"module": "virtual_appliances.lab", "argv": ["--appliances", "1", "--testbed-out", str(testbed), *extra],
               "cwd": str(tmp_path), "env": {**os.environ, "CTRLAB_TEST_MARK": name}}
    with log.open("wb") as out, open(os.devnull, "rb") as devnull:
        socket.send_fds(conn, [json.dumps(request).encode() + b"\n"], [devnull.fileno(), out.fileno(), out.fileno()])
    return conn, testbed, log


def answers(conn: socket.socket) -> Iterator[dict[str, object]]:
    buffer = b""
    while True:
        data = conn.recv(4096)
        if not data:
            return
        buffer += data
        while b"\n" in buffer:
            line, buffer = buffer.split(b"\n", 1)
            yield json.loads(line)


def wait_for(path: Path) -> None:
    deadline = time.monotonic() + DEADLINE_S
    while not path.exists():
        assert time.monotonic() < deadline, f"{path} was not written"
        time.sleep(0.02)


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"


def test_each_lab_is_a_fork_of_its_own_that_logs_and_reports_its_exit(server: tuple[subprocess.Popen[bytes], Path],
                                                                      tmp_path: Path) -> None:
    _, path = server
    first, second = ask(path, tmp_path, "one"), ask(path, tmp_path, "two")
    replies = [answers(conn) for conn, _, _ in (first, second)]
    pids = [int(next(r)["pid"]) for r in replies]  # type: ignore[call-overload]
    assert len(set(pids)) == 2
    for pid in pids:
        assert os.getpgid(pid) == pid  # it leads its own process group, as a lab the harness starts itself
    for _, testbed, _ in (first, second):
        wait_for(testbed)
    labs = [yaml.safe_load(testbed.read_text()) for _, testbed, _ in (first, second)]
    ports = [lab["devices"]["esa1"]["connections"]["cli"]["port"] for lab in labs]
    assert ports[0] != ports[1]  # two labs, not one shared
    for pid in pids:
        os.killpg(pid, signal.SIGINT)  # how the harness stops a lab
    for reply, (conn, _, log) in zip(replies, (first, second), strict=True):
        assert next(reply) == {"exit": 0}
        assert list(reply) == []  # and the server closed the connection
        conn.close()
        text = log.read_text()
        assert "forked from the fork server" in text and "ctrlab lab ready" in text and "ctrlab lab stopped" in text


def test_a_client_that_hangs_up_has_its_lab_stopped(server: tuple[subprocess.Popen[bytes], Path],
                                                     tmp_path: Path) -> None:
    _, path = server
    conn, testbed, log = ask(path, tmp_path, "gone")
    pid = int(next(answers(conn))["pid"])  # type: ignore[call-overload]
    wait_for(testbed)
    conn.close()  # the worker ended (however it ended)
    deadline = time.monotonic() + DEADLINE_S
    while alive(pid):
        assert time.monotonic() < deadline, "the lab of a client that hung up still runs"
        time.sleep(0.02)
    assert "ctrlab lab stopped" in log.read_text()
    assert not testbed.exists()  # it stopped in order (SIGINT), removing what it wrote


def test_a_bad_request_gets_an_error_and_a_lab_that_fails_reports_its_code(
        server: tuple[subprocess.Popen[bytes], Path], tmp_path: Path) -> None:
    _, path = server
    with socket.socket(socket.AF_UNIX) as conn:
        conn.settimeout(DEADLINE_S)
        conn.connect(str(path))
        conn.sendall(b'{"module": "virtual_appliances.lab", "argv": []}\n')  # no descriptors, no cwd
        reply = list(answers(conn))
    assert len(reply) == 1 and "bad request" in str(reply[0]["error"]), reply
    conn, _, log = ask(path, tmp_path, "wrong", "--appliances", "0")  # the lab's own argument check
    reply = list(answers(conn))
    conn.close()
    assert "pid" in reply[0] and reply[1] == {"exit": 2}, reply
    assert "--appliances must be between 1 and 500" in log.read_text()


def test_stopping_the_server_stops_its_labs(server: tuple[subprocess.Popen[bytes], Path], tmp_path: Path) -> None:
    process, path = server
    conn, testbed, _ = ask(path, tmp_path, "last")
    reply = answers(conn)
    pid = int(next(reply)["pid"])  # type: ignore[call-overload]
    wait_for(testbed)
    process.terminate()
    assert process.wait(timeout=DEADLINE_S) == 0
    assert next(reply) == {"exit": 0}  # the lab stopped in order before the server went
    assert not alive(pid)
    conn.close()
    with contextlib.suppress(OSError), socket.socket(socket.AF_UNIX) as late:
        late.connect(str(path))
        pytest.fail("a stopped server still accepts labs")


def run_code(path: Path, tmp_path: Path, code: str, stdin: bytes = b"", **env: str) -> tuple[list[dict[str, object]],
                                                                                               str, str]:
    """``python -u -c CODE one two`` as a fork of the server: its replies, its stdout and its stderr."""
    out, err = tmp_path / "out.txt", tmp_path / "err.txt"
    read_end, write_end = os.pipe()
    os.write(write_end, stdin)
    os.close(write_end)
    request = {"code": code, "argv": ["one", "two"], "cwd": str(tmp_path), "env": {**os.environ, **env},
               "path": ["", *sys.path[1:]], "unbuffered": True}
    with socket.socket(socket.AF_UNIX) as conn, out.open("wb") as stdout, err.open("wb") as stderr:
        conn.settimeout(DEADLINE_S)
        conn.connect(str(path))
        socket.send_fds(conn, [json.dumps(request).encode() + b"\n"], [read_end, stdout.fileno(), stderr.fileno()])
        os.close(read_end)
        replies = list(answers(conn))
    return replies, out.read_text(), err.read_text()


CHILD = """
import atexit, os, sys
atexit.register(print, "atexit ran")
print(sys.argv, os.getcwd() == os.environ["EXPECTED_CWD"], os.environ["CTRLAB_TEST_MARK"], sys.path[0] == "")
print("preloaded" if "yaml" in sys.modules else "not preloaded", sys.stdin.readline().strip())
print("to stderr", file=sys.stderr)
sys.exit(3)
"""


def test_a_code_child_runs_as_python_c_would(server: tuple[subprocess.Popen[bytes], Path], tmp_path: Path) -> None:
    _, path = server
    replies, out, err = run_code(path, tmp_path, CHILD, b"from stdin\n", EXPECTED_CWD=str(tmp_path),
                                 CTRLAB_TEST_MARK="mark")
    assert "pid" in replies[0] and replies[1:] == [{"exit": 3}], replies
    assert out.splitlines() == ["['-c', 'one', 'two'] True mark True", "preloaded from stdin", "atexit ran"]
    assert err == "to stderr\n"
    replies, _, err = run_code(path, tmp_path, "raise RuntimeError('boom')")
    assert replies[1:] == [{"exit": 1}] and "RuntimeError: boom" in err  # as python reports an uncaught error


def test_a_code_child_is_refused_what_a_fork_cannot_be(server: tuple[subprocess.Popen[bytes], Path],
                                                       tmp_path: Path) -> None:
    _, path = server
    replies, _, _ = run_code(path, tmp_path, "pass", PYTHONHASHSEED="123")  # fixed as the interpreter starts
    assert len(replies) == 1 and "PYTHONHASHSEED" in str(replies[0]["error"]), replies
    conn, testbed, _ = ask(path, tmp_path, "lab")  # the server imports the lab for it: not the preloaded state
    reply = answers(conn)
    pid = int(next(reply)["pid"])  # type: ignore[call-overload]
    wait_for(testbed)
    replies, _, _ = run_code(path, tmp_path, "pass")
    assert len(replies) == 1 and "imported modules of its own" in str(replies[0]["error"]), replies
    os.killpg(pid, signal.SIGINT)
    assert next(reply) == {"exit": 0}
    conn.close()
