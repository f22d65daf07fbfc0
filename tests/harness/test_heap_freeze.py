"""The heap frozen after collection (harness/plugin.py ``_freeze_heap``): thawed after a run inside another
process's work, left frozen when the process ends with the run (its exit then skips walking it)."""

from __future__ import annotations

import gc
import re
import textwrap

import pytest

pytest_plugins = ["pytester"]

REPORT_AT_EXIT = textwrap.dedent("""\
    import atexit, gc, sys

    atexit.register(lambda: sys.stdout.write(f"frozen at exit: {gc.get_freeze_count()}\\n"))
    """)


def test_a_run_of_pytests_command_line_leaves_its_heap_frozen_for_the_exit(pytester: pytest.Pytester) -> None:
    pytester.makeconftest(REPORT_AT_EXIT)
    pytester.makepyfile(test_plain="def test_plain():\n    assert True\n")
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "test_plain.py")
    result.assert_outcomes(passed=1)
    frozen = re.search(r"frozen at exit: (\d+)", result.stdout.str())
    assert frozen is not None and int(frozen.group(1)) > 1000, result.stdout.str()


def test_a_run_inside_another_process_thaws_what_it_froze(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_plain="def test_plain():\n    assert True\n")
    result = pytester.runpytest_inprocess("-p", "no:cacheprovider", "-p", "no:benchmark", "test_plain.py")
    result.assert_outcomes(passed=1)
    assert gc.get_freeze_count() == 0  # nothing of the inner run (nor of this one) is left out of collection
