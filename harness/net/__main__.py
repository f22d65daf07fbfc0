"""``python -m harness.net --testbed FILE``: the same as ``ctrlab netcheck``, by module name (what runs inside
a network namespace with ``ip netns exec``)."""

from __future__ import annotations

import argparse
import sys

from .cli import HELP, configure, run


def main(argv: list[str] | None = None) -> int:
    from ..cli import DefaultsFormatter

    parser = argparse.ArgumentParser(prog="python -m harness.net", description=HELP, formatter_class=DefaultsFormatter)
    configure(parser)
    return run(parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
