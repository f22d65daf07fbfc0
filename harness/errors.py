"""Errors the drivers raise, shared by the whole harness.

The split matters for reports: ``LabUnreachable`` and ``AuthenticationFailed`` are lab or harness
faults (the network, the credentials), while ``CliError`` and ``ApiError`` carry what the appliance or
the cloud answered, which a scenario may turn into a conformance failure.
"""

from __future__ import annotations


class DriverError(Exception):
    """Base class of every error a driver raises."""


class LabUnreachable(DriverError):
    """A transport fault: refused, reset, timed out, TLS failed, connection dropped mid-dialog."""

    def __init__(self, what: str, endpoint: str, cause: object) -> None:
        self.what = what  # e.g. "esa1 CLI", "Threat Response (nam)"
        self.endpoint = endpoint  # e.g. "127.0.0.1:2222", "https://visibility.amp.cisco.com"
        self.cause = cause
        super().__init__(f"{what} unreachable at {endpoint}: {cause}")


class DriverTimeout(LabUnreachable):
    """The peer is connected but did not answer in time (no prompt, no response)."""


class AuthenticationFailed(DriverError):
    """The peer refused the credentials (SSH, GUI login, REST login, OAuth2 client credentials)."""

    def __init__(self, what: str, endpoint: str, detail: str = "") -> None:
        self.what = what
        self.endpoint = endpoint
        self.detail = detail
        super().__init__(f"{what} at {endpoint} refused the credentials" + (f": {detail}" if detail else ""))


class CliError(DriverError):
    """The appliance CLI rejected a command ("Unknown command or missing feature key: ...") or a
    dialog did not go as scripted. ``output`` is what the appliance printed (masked)."""

    def __init__(self, command: str, output: str, reason: str = "") -> None:
        self.command = command
        self.output = output
        self.reason = reason or "the appliance rejected the command"
        super().__init__(f"{command!r}: {self.reason}\n{output}")


class ApiError(DriverError):
    """An HTTP API answered with an unexpected status. ``body`` is the (masked) response body."""

    def __init__(self, what: str, method: str, url: str, status: int, body: str) -> None:
        self.what = what
        self.method = method
        self.url = url
        self.status = status
        self.body = body
        super().__init__(f"{what}: {method} {url} -> HTTP {status}: {body[:500]}")


class RateLimited(ApiError):
    """HTTP 429 for longer than the client's deadline allows."""


class NavigationError(DriverError):
    """The web GUI does not show the label, button or field the documents name."""


class MailRefused(DriverError):
    """The SMTP listener refused the sender, every recipient, or the message data."""

    def __init__(self, what: str, endpoint: str, code: int, reply: str) -> None:
        self.what = what
        self.endpoint = endpoint
        self.code = code
        self.reply = reply
        super().__init__(f"{what} at {endpoint} refused the message: {code} {reply}")


class HostKeyError(DriverError):
    """The appliance's SSH host key could not be verified: a lab/testbed fault, never a conformance finding.
    Nothing was sent to the peer (no password), because the key is checked before authentication."""

    def __init__(self, device: str, endpoint: str, message: str) -> None:
        self.device = device
        self.endpoint = endpoint
        super().__init__(message)


class HostKeyUnknown(HostKeyError):
    """The testbed records no host key for the device: the harness refuses to log in blind."""

    def __init__(self, device: str, endpoint: str, testbed: str = "PATH") -> None:
        super().__init__(device, endpoint, f"{device}: no SSH host key recorded for {endpoint} in the testbed: run "
                                           f"`ctrlab testbed trust {testbed}` to check and record it")


class HostKeyMismatch(HostKeyError):
    """The device offered a host key other than the recorded one(s): a re-imaged appliance, or someone else."""

    def __init__(self, device: str, endpoint: str, expected: list[str], offered: str) -> None:
        self.expected = expected
        self.offered = offered
        super().__init__(device, endpoint, f"{device}: SSH host key mismatch at {endpoint}: expected "
                                           f"{' or '.join(expected)}, offered {offered}; not logging in (if the "
                                           "appliance was re-imaged, run `ctrlab testbed trust PATH --device "
                                           f"{device}` after checking its console)")
