"""What a red scenario means: a conformance failure, a lab fault, or a harness error.

The rule (issue 13, item 3):

* **conformance failure**: the appliance or the cloud answered, and the answer contradicts the documents
  (a :class:`steps.expect.ConformanceError` or another ``AssertionError`` in a When or Then step, with no
  lab fault behind it). Allure status ``failed``.
* **lab fault**: the lab did not answer, or answered "not now": transport errors and timeouts
  (:class:`~harness.errors.LabUnreachable`), HTTP 5xx and 429 after the retries, the simulators' control
  plane failing, refused lab credentials, an unusable testbed or backend, and a Given that could not
  establish its state. Allure status ``broken``, message prefix ``lab fault:``.
* **harness error**: any other exception: a defect of ctrlab or of a step definition. Allure status
  ``broken``, message prefix ``harness error:``.

The plugin classifies each failed scenario with :func:`classify` and hands Allure a :class:`LabFault` or
:class:`HarnessError` carrying the original as its cause, so the status and the prefix agree everywhere.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

CONFORMANCE = "conformance failure"
LAB_FAULT = "lab fault"
HARNESS_ERROR = "harness error"
# Exceptions (by class name, anywhere in the MRO) that mean the lab, not the product, is at fault.
_TRANSPORT = ("LabUnreachable", "TimeoutError", "ConnectionError", "ReadTimeout", "ConnectTimeout")
_LAB_SETUP = ("AuthenticationFailed", "TestbedError", "BackendError", "SnapshotFailed", "RestoreFailed")
CONTROL_PLANE = "simulator control plane"  # SimControl's ``what``
# A ``pytest.fail`` text (e.g. "could not restore the lab after the scenario: ...") naming a lab fault.
_LAB_FAULT_TEXT = re.compile(r"\b(LabUnreachable|DriverTimeout|RateLimited)\b|HTTP (5\d\d|429)\b")


class LabFault(Exception):
    """A scenario stopped by the lab, not by the product. The message starts with ``lab fault:``."""

    def __init__(self, reason: str, verdict: Verdict | None = None) -> None:
        super().__init__(f"{LAB_FAULT}: {reason}")
        self.verdict = verdict or Verdict(LAB_FAULT, reason)


class HarnessError(Exception):
    """A scenario stopped by a defect of the harness or a step. The message starts with ``harness error:``."""

    def __init__(self, reason: str) -> None:
        super().__init__(f"{HARNESS_ERROR}: {reason}")


@dataclass(frozen=True)
class Verdict:
    kind: str  # CONFORMANCE | LAB_FAULT | HARNESS_ERROR
    reason: str  # one line
    lab_down: bool = False  # the lab did not answer (counts for the circuit breaker)
    down: str = ""  # what is down, e.g. "Threat Response (nam) answers HTTP 503"

    @property
    def message(self) -> str:
        return f"{self.kind}: {self.reason}"


def _names(exc: BaseException) -> set[str]:
    return {cls.__name__ for cls in type(exc).__mro__}


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return f"{type(exc).__name__}: {text.splitlines()[0] if text else ''}".rstrip(": ")


def lab_fault_of(exc: BaseException) -> Verdict | None:
    """The lab-fault verdict of one exception (not its chain), or None."""
    if isinstance(exc, LabFault):
        return exc.verdict
    names = _names(exc)
    if names & set(_TRANSPORT):
        what, endpoint = getattr(exc, "what", ""), getattr(exc, "endpoint", "")
        down = f"{what} at {endpoint} does not answer" if what else _first_line(exc)
        return Verdict(LAB_FAULT, _first_line(exc), True, down)
    if "ApiError" in names:
        status = int(getattr(exc, "status", 0) or 0)
        what = str(getattr(exc, "what", ""))
        if status >= 500 or status == 429:
            return Verdict(LAB_FAULT, _first_line(exc), True, f"{what} answers HTTP {status}")
        if what == CONTROL_PLANE:
            return Verdict(LAB_FAULT, f"the control plane refused a set-up: {_first_line(exc)}")
        return None
    if names & set(_LAB_SETUP):
        return Verdict(LAB_FAULT, _first_line(exc))
    return None


def _chain(exc: BaseException) -> list[BaseException]:
    seen: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and current not in seen and len(seen) < 20:
        seen.append(current)
        current = current.__cause__ or current.__context__
    return seen


def find_lab_fault(value: object) -> tuple[BaseException, Verdict] | None:
    """A lab fault in ``value`` (an exception) or in the exceptions it was raised from."""
    if not isinstance(value, BaseException):
        return None
    for exc in _chain(value):
        verdict = lab_fault_of(exc)
        if verdict is not None:
            return exc, verdict
    return None


def raise_if_lab_fault(value: object) -> None:
    """Raise :class:`LabFault` if ``value`` is (or was raised from) a lab fault: it is no answer to judge."""
    found = find_lab_fault(value)
    if found is not None:
        __tracebackhide__ = True
        raise LabFault(found[1].reason, found[1]) from found[0]


def classify(exc: BaseException, step_type: str | None = None, step: str = "") -> Verdict:
    """The verdict of a scenario that raised ``exc`` in a step of ``step_type`` (given/when/then)."""
    found = find_lab_fault(exc)
    if found is not None:
        return found[1]
    if isinstance(exc, HarnessError):
        return Verdict(HARNESS_ERROR, str(exc).removeprefix(f"{HARNESS_ERROR}: "))
    if isinstance(exc, AssertionError):
        if step_type == "given":  # the scenario never reached what it checks
            where = f" ({step})" if step else ""
            return Verdict(LAB_FAULT, f"a Given could not establish its state{where}: {_first_line(exc)}")
        return Verdict(CONFORMANCE, _first_line(exc))
    if type(exc).__name__ == "Failed" and _LAB_FAULT_TEXT.search(str(exc)):
        return Verdict(LAB_FAULT, _first_line(exc), True, _first_line(exc).removeprefix("Failed: "))
    return Verdict(HARNESS_ERROR, _first_line(exc))


def wrapped(exc: BaseException, verdict: Verdict) -> BaseException:
    """The exception Allure and the terminal should see for ``verdict``: ``exc`` itself for a conformance
    failure, else a LabFault / HarnessError raised from it (so the status is broken, the prefix right)."""
    if verdict.kind == CONFORMANCE or isinstance(exc, LabFault | HarnessError):
        return exc
    new: BaseException = (LabFault(verdict.reason, verdict) if verdict.kind == LAB_FAULT
                          else HarnessError(verdict.reason))
    new.__cause__ = exc
    return new.with_traceback(exc.__traceback__)

