"""The safety net: every appliance snapshotted before a destructive scenario is restored after it,
whatever happens, and a restore that fails is loud."""

from __future__ import annotations

import atexit
import signal
from collections.abc import Iterator

import pytest

from harness.safety import CloudSettingsKeeper, RestoreFailed, SafetyNet, SnapshotFailed, deferred_signals


class Keeper:
    def __init__(self, name: str, log: list[str], fail_restore: bool = False, fail_snapshot: bool = False) -> None:
        self.name = name
        self.log = log
        self.fail_restore = fail_restore
        self.fail_snapshot = fail_snapshot

    def snapshot(self) -> object:
        if self.fail_snapshot:
            raise ConnectionError("ssh refused")
        self.log.append(f"snapshot {self.name}")
        return {"server": "nam"}

    def restore(self, snapshot: object) -> None:
        self.log.append(f"restore {self.name}")
        if self.fail_restore:
            raise ConnectionError("ssh refused")


@pytest.fixture(autouse=True)
def _no_exit_handlers(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The nets made here must not restore anything when the test process exits."""
    registered: list[object] = []
    monkeypatch.setattr(atexit, "register", registered.append)
    yield


def test_keeper_satisfies_the_protocol() -> None:
    assert isinstance(Keeper("esa1", []), CloudSettingsKeeper)


def test_restores_after_success_in_reverse_order() -> None:
    log: list[str] = []
    net = SafetyNet()
    with net.guard([Keeper("esa1", log), Keeper("esa2", log)], "scenario x"):
        log.append("scenario")
    assert log == ["snapshot esa1", "snapshot esa2", "scenario", "restore esa2", "restore esa1"]
    assert net.pending == []


@pytest.mark.parametrize("exc", [AssertionError("conformance"), RuntimeError("harness"), KeyboardInterrupt()])
def test_restores_after_failure_and_interrupt(exc: BaseException) -> None:
    log: list[str] = []
    net = SafetyNet()
    with pytest.raises(type(exc)), net.guard([Keeper("esa1", log)], "scenario x"):
        raise exc
    assert log == ["snapshot esa1", "restore esa1"] and net.pending == []


def test_a_failed_restore_is_loud_and_tried_once() -> None:
    log: list[str] = []
    net = SafetyNet()
    with pytest.raises(RestoreFailed) as info, net.guard([Keeper("esa1", log, fail_restore=True),
                                                          Keeper("esa2", log)], "scenario x"):
        pass
    line = "esa1 NOT restored after scenario x (ConnectionError: ssh refused): restore by hand: {'server': 'nam'}"
    assert str(info.value).splitlines()[1:] == [f"  {line}"]
    assert log[-2:] == ["restore esa2", "restore esa1"]  # esa2 was restored although esa1 failed
    assert net.pending == [] and net.unrestored == [line]  # not retried at exit: listed at the end of the run
    net.restore_pending()
    assert log.count("restore esa1") == 1


def test_snapshot_failure_runs_nothing() -> None:
    log: list[str] = []
    ran = False
    with pytest.raises(SnapshotFailed, match="could not record esa1's settings"), \
            SafetyNet().guard([Keeper("esa1", log, fail_snapshot=True)], "scenario x"):
        ran = True
    assert not ran


def test_pending_restores_run_at_exit() -> None:
    log: list[str] = []
    net = SafetyNet()
    keeper = Keeper("esa1", log)
    guard = net.guard([keeper], "scenario x")
    guard.__enter__()  # the process dies inside the scenario: no __exit__
    net.restore_pending()
    assert log == ["snapshot esa1", "restore esa1"] and net.pending == []


def test_signals_are_deferred_until_the_restore_ends() -> None:
    order: list[str] = []
    previous = signal.signal(signal.SIGTERM, lambda s, f: order.append("SIGTERM delivered"))
    try:
        with deferred_signals():
            signal.raise_signal(signal.SIGTERM)
            order.append("restore finished")
    finally:
        signal.signal(signal.SIGTERM, previous)
    assert order == ["restore finished", "SIGTERM delivered"]
