"""Replays every golden transcript (``transcripts/<release>/<name>.txt``) over real SSH, through a PTY
shell, against a simulated appliance of that release, and compares what the terminal shows."""

from __future__ import annotations

import pytest

from virtual_appliances.asyncos.releases import RELEASES

from .conftest import Factory
from .support import CliLab, awaiting_token, registered
from .transcript_files import ROOT, Transcript, all_transcripts, normalise

TRANSCRIPTS = all_transcripts()


def start(make_cli: Factory, transcript: Transcript) -> CliLab:
    kind, model, version, *variant = transcript.appliance
    lab = make_cli(kind=kind, model=model, version=version, gateway_variant=variant[0] if variant else "securex")
    assert lab.appliance.spec.release.key == transcript.release, (
        f"{transcript.path}: the header's appliance is release {lab.appliance.spec.release.key}")
    if transcript.setup == "awaiting_token":
        awaiting_token(lab)
    elif transcript.setup == "registered":
        registered(lab)
    return lab


@pytest.mark.parametrize("transcript", TRANSCRIPTS, ids=[f"{t.release}/{t.name}" for t in TRANSCRIPTS])
def test_transcript(make_cli: Factory, transcript: Transcript) -> None:
    lab = start(make_cli, transcript)
    with lab.shell() as shell:
        shown = normalise(shell.dialog(*transcript.typed))
    assert shown == transcript.expected, f"{transcript.path} differs"


def test_every_release_has_transcripts_and_every_folder_a_release() -> None:
    folders = {p.name for p in ROOT.iterdir() if p.is_dir()}
    keys = {r.key for r in RELEASES}
    assert folders == keys, (f"folders without a release: {folders - keys}; "
                             f"releases without transcripts: {keys - folders}")
