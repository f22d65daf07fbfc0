"""Golden CLI transcripts: reading the files of ``transcripts/<release>/<name>.txt`` (format in its README).

A transcript is what a terminal shows, from the prompt the session waits at to the last prompt, with
each line the user types wrapped in «», so the file reads like a seed's transcript and is still exact.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from .support import DATE

ROOT = Path(__file__).with_name("transcripts")
TYPED = re.compile(r"«(.*?)»")
DATE_MARK = "<date>"
SETUPS = ("factory", "awaiting_token", "registered")


@dataclass(frozen=True)
class Transcript:
    release: str  # the folder: the release record's key
    name: str
    setup: str  # the appliance's state before the first line: factory | awaiting_token | registered
    appliance: tuple[str, ...]  # kind, model, version[, gateway variant]: the header's "appliance"
    text: str  # the body, «typed» lines included

    @property
    def typed(self) -> list[str]:
        return TYPED.findall(self.text)

    @property
    def expected(self) -> str:
        """What the terminal shows: the typed lines are echoed where they stand."""
        return TYPED.sub(lambda m: m.group(1), self.text)

    @property
    def path(self) -> Path:
        return ROOT / self.release / f"{self.name}.txt"


def normalise(shown: str) -> str:
    """Commit dates come from the lab clock: compare them as ``<date>``."""
    return DATE.sub(DATE_MARK, shown)


def load(path: Path) -> Transcript:
    header: dict[str, str] = {}
    lines = path.read_text(encoding="utf-8").split("\n")
    while lines and lines[0].startswith("#"):
        key, _, value = lines.pop(0)[1:].partition(":")
        if value:
            header[key.strip()] = value.strip()
    setup = header.get("setup", "factory")
    if setup not in SETUPS:
        raise ValueError(f"{path}: setup {setup!r} is not one of {SETUPS}")
    appliance = tuple(header.get("appliance", "").split())
    if len(appliance) not in (3, 4):
        raise ValueError(f"{path}: the header needs '# appliance: <kind> <model> <version> [<gateway variant>]'")
    body = "\n".join(lines)
    if body.endswith("\n"):
        body = body[:-1]  # the file's own final newline; the transcript ends at the prompt's space
    return Transcript(path.parent.name, path.stem, setup, appliance, body)


def all_transcripts() -> list[Transcript]:
    return [load(p) for p in sorted(ROOT.glob("*/*.txt"))]
