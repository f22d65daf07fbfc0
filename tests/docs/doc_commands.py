"""The shell commands of README.md and docs/*.md, as the documents write them (```sh blocks).

A block is a list of command lines: ``\\`` continuations are joined, ``#`` comments and ``# output`` lines
dropped, ``a && b`` split. When a block shows a session (lines starting with ``$ ``), only those lines are
commands and the lines under each are the output the document promises.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SH_BLOCK = re.compile(r"^```sh\n(.*?)^```", re.S | re.M)
ANY_BLOCK = re.compile(r"^```(\w*)\n(.*?)^```", re.S | re.M)
# Placeholders the documents use in optional parts, with a value of the right kind.
PLACEHOLDERS = {"N": "2", "MB": "2048", "S": "5", "SECONDS": "5", "auto|kvm|tcg": "auto"}


@dataclass
class Command:
    doc: str  # README.md, docs/x.md
    line: int
    text: str  # as written (continuations joined)
    expected_output: list[str] = field(default_factory=list)  # a "$ " session's lines under the command

    @property
    def argv(self) -> list[str]:
        return shlex.split(_without_comment(self.text))

    def variants(self) -> list[list[str]]:
        """The argv without its ``[optional]`` parts, and with all of them (placeholders filled in)."""
        text = _without_comment(self.text)
        if "[" not in text:
            return [shlex.split(text)]
        bare = re.sub(r"(^|\s)\[[^\]]*\]", "", text)  # " [--x N]" is optional; '.[test]' is not
        full = re.sub(r"(^|\s)\[([^\]]*)\]", r"\1\2", text)
        return [shlex.split(bare), [PLACEHOLDERS.get(a, a) for a in shlex.split(full)]]

    def __str__(self) -> str:
        return f"{self.doc}:{self.line}: {self.text}"


def _without_comment(text: str) -> str:
    return re.sub(r"\s+#.*$", "", text).strip()


def documents() -> list[Path]:
    return [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]


def commands_of(path: Path) -> list[Command]:
    text = path.read_text(encoding="utf-8")
    name = str(path.relative_to(ROOT))
    found: list[Command] = []
    for block in SH_BLOCK.finditer(text):
        first_line = text[:block.start(1)].count("\n") + 1
        lines = block.group(1).splitlines()
        session = any(line.startswith("$ ") for line in lines)
        current: Command | None = None
        pending = ""
        for offset, raw in enumerate(lines):
            if session and not raw.startswith("$ "):
                if current is not None and raw.strip():
                    current.expected_output.append(raw)
                continue
            line = raw[2:] if session else raw
            if not pending and (not line.strip() or line.lstrip().startswith("#")):
                continue
            if line.rstrip().endswith("\\"):
                pending += line.rstrip()[:-1].rstrip() + " "
                continue
            whole = (pending + line.strip()).strip()
            pending = ""
            for part in whole.split(" && "):
                current = Command(name, first_line + offset, part.strip())
                found.append(current)
    return found


def all_commands() -> list[Command]:
    return [c for path in documents() for c in commands_of(path)]


def unlabeled_shell_blocks(path: Path) -> list[str]:
    """Fenced blocks without a language whose first line is a command (they would escape the check)."""
    text = path.read_text(encoding="utf-8")
    out = []
    for block in ANY_BLOCK.finditer(text):
        first = next((line for line in block.group(2).splitlines() if line.strip()), "")
        if not block.group(1) and re.match(r"\$?\s*(ctrlab|pytest|python3? -m|docker|npm|npx)\b", first) \
                and " -> " not in first:  # "pytest -> backend sim": a table of what commands do, not commands
            out.append(first)
    return out
