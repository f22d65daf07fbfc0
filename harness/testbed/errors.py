"""The one error a testbed problem raises: every line names the file, the field and what is wrong."""

from __future__ import annotations

from collections.abc import Iterable


class TestbedError(Exception):
    """A testbed that cannot be used: unreadable, malformed, or naming a missing environment variable.

    ``str(error)`` is one line per problem, each ``<file>: <field path>: <what is wrong>``, ready to show
    to a user as is (no traceback needed).
    """

    __test__ = False  # not a pytest test class, whatever its name says

    def __init__(self, source: str, problems: Iterable[str]) -> None:
        self.source = source
        self.problems = list(problems) or ["unknown problem"]
        super().__init__("\n".join(f"{source}: {p}" for p in self.problems))
