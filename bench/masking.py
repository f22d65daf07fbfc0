"""Cost of masking one report page as the number of known secrets grows, and of registering new ones.

    python bench/masking.py [--rounds 15]

A page is ~20 KB of what transcripts and reports hold (CLI dialogs, a GUI page's HTML, a JSON body)
with three real secrets in it. The masker knows 10, 1,000 or 10,000 secrets as a run meets them
(:func:`make_secret`: the testbed's passwords with quotes and escapes, API key and client secrets,
then registration tokens and bearer JWTs, each registered with its escaped forms), registered 100 at
a time as the SSE token batches are.
Times are CPU time of the masking thread (``time.thread_time``): on a machine shared with other
jobs, wall time mostly measures the neighbours. Rounds alternate between the three maskers, so what
load remains (caches) hits them alike; each figure is the median over the rounds.
Target: masking with 10,000 secrets within 1.5x of masking with 10.
The figures are taken once the run has stopped learning secrets (the recent tier folded into the
settled one); the page is also timed right after the last batch, with both tiers searched.

Then: registering a batch of 100 new secrets in a masker that knows 10,000 (the ``add`` and the
automaton build the next mask does), as median and as mean over 60 batches (the mean includes the
batches that fold the recent tier into the settled one).
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import string
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from harness.report import matcher
from harness.report.masking import MASK, Masker

SIZES = (10, 1_000, 10_000)
TARGET_RATIO = 1.5
BATCH = 100


def make_secret(rng: random.Random, i: int) -> str:
    """The i-th secret a run registers: first the testbed's ten (passwords with quotes and escapes, an
    API key, client secrets), then what it learns: registration tokens (100 per SSE batch) and bearer
    JWTs (a CTR or REST login each), four to one."""
    if i < 10 and i % 2 == 0:  # appliance and proxy passwords (several escaped forms each)
        chars = rng.choices(string.ascii_letters + string.digits, k=10) + rng.sample("!&<>%'\"+ \\é", k=4)
        rng.shuffle(chars)
        return "Pw" + "".join(chars)
    if i < 10:  # SSE API key, CTR client secrets
        return "".join(rng.choices(string.ascii_letters + string.digits + "-_", k=rng.randint(32, 43)))
    if i % 5 == 0:  # bearer tokens (JWT): header.payload.signature, base64url
        b64 = string.ascii_letters + string.digits + "-_"
        return "eyJhbGciOiJSUzI1NiJ9." + "".join(rng.choices(b64, k=120)) + "." + "".join(rng.choices(b64, k=43))
    return f"{rng.getrandbits(128):032x}"  # SSE registration tokens: 32 hex digits


def make_page(secrets: list[str], rng: random.Random) -> str:
    """A CLI dialog, a GUI page (one form, one CSRF key) and an SSE JSON body, with ``secrets`` in them."""
    cli = [f"esa1.example.com> cloudserviceconfig status\nCloud Services: Enabled\nRegion: nam\n"
           f"Registration Status: Registered (since 2026-12-0{n % 9 + 1} {n % 24:02d}:{n % 60:02d})\n"
           f"Thu Dec  3 10:{n % 60:02d}:12 2026 Info: MID {100000 + n} ICID {200000 + n} From: <user{n}@example.com>\n"
           for n in range(30)]
    rows = "".join(f'<tr class="row{n % 2}"><td class="label">Threat Response Server</td><td>'
                   f'<a href="/network/cloud_services?page={n}">api-sse.cisco.com</a></td>'
                   f'<td><span class="status">Enabled</span></td></tr>\n' for n in range(40))
    gui = (f'<html><head><title>Cloud Service Settings</title></head><body><form method="POST" action="/network/'
           f'cloud_services"><input type="hidden" name="CSRFKey" value="{rng.getrandbits(128):032x}">'
           f'<table class="pairs">{rows}</table><input type="submit" value="Submit"></form></body></html>\n')
    devices = [{"deviceId": str(uuid.UUID(int=rng.getrandbits(128))), "deviceName": f"esa{n}.example.com",
                "status": "registered", "version": "15.0.0-104", "tags": ["ESA", "C100V"]} for n in range(40)]
    body = json.dumps({"devices": devices}, indent=1) + "\n"
    parts = ["".join(cli), gui, body]
    for i, secret in enumerate(secrets):  # the real secrets: raw in the CLI, in JSON, in a repr
        shown = [secret, json.dumps({"token": secret}), repr({"password": secret})][i % 3]
        parts.insert(1 + i * 2, f"  token: {shown}\n")
    return "".join(parts)


def registered(count: int, rng: random.Random) -> tuple[Masker, list[str]]:
    masker = Masker()
    secrets = [make_secret(rng, i) for i in range(count)]
    for start in range(0, count, BATCH):
        masker.add(*secrets[start:start + BATCH])
        masker.mask("x")  # a mask between batches, as in a run: each batch is built once
    return masker, secrets


def timed(fn: Callable[[], object], repeat: int) -> float:
    start = time.thread_time()
    for _ in range(repeat):
        fn()
    return (time.thread_time() - start) / repeat


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--repeat", type=int, default=50, help="masks per round")
    args = parser.parse_args()
    rng = random.Random(7)
    maskers: dict[int, tuple[Masker, str]] = {}
    fresh: dict[int, float] = {}
    for size in SIZES:
        masker, secrets = registered(size, rng)
        page = make_page([secrets[0], secrets[1], secrets[-1]], rng)  # a password, an API key, a token
        masked = masker.mask(page)
        assert masked.count(MASK) >= 3 and not masker.leaks(masked), "the benchmark page must be masked"
        fresh[size] = statistics.median(timed(lambda m=masker, p=page: m.mask(p), 5) for _ in range(5))
        quiet = max(matcher.FOLD_AFTER_MIN, len(masker) // matcher.FOLD_AFTER_SHARE)
        for _ in range(quiet + 1):  # a run that has stopped learning secrets: "recent" is folded
            masker.mask("x")
        maskers[size] = (masker, page)
    samples: dict[int, list[float]] = {size: [] for size in SIZES}
    for _ in range(args.rounds):
        for size, (masker, page) in maskers.items():
            samples[size].append(timed(lambda m=masker, p=page: m.mask(p), args.repeat))
    median = {size: statistics.median(values) for size, values in samples.items()}
    page_kb = len(maskers[SIZES[0]][1]) / 1000
    print(f"masking one {page_kb:.0f} KB page, CPU time (median of {args.rounds} rounds of {args.repeat}):")
    for size in SIZES:
        masker = maskers[size][0]
        print(f"  {size:>6} secrets ({len(masker):>6} forms): {median[size] * 1e6:8.1f} us"
              f"   (right after the last batch: {fresh[size] * 1e6:.1f} us)")
    ratio = median[SIZES[-1]] / median[SIZES[0]]
    verdict = "met" if ratio <= TARGET_RATIO else "NOT met"
    print(f"  ratio {SIZES[-1]:,} vs {SIZES[0]}: {ratio:.2f}x (target <= {TARGET_RATIO}x: {verdict}); "
          f"{SIZES[-1]:,} vs {SIZES[1]:,}: {median[SIZES[-1]] / median[SIZES[1]]:.2f}x")

    masker, page = maskers[SIZES[-1]]
    costs: list[float] = []
    for batch in range(60):
        fresh = [make_secret(rng, batch * BATCH + i) for i in range(BATCH)]
        costs.append(timed(lambda f=fresh: (masker.add(*f), masker.mask("x")), 1))  # the mask builds the batch
    print(f"registering a batch of {BATCH} new secrets with {SIZES[-1]:,} known (add + build at the next mask): "
          f"median {statistics.median(costs) * 1e3:.1f} ms, mean {statistics.mean(costs) * 1e3:.1f} ms, "
          f"max {max(costs) * 1e3:.1f} ms over {len(costs)} batches")
    after = statistics.median(timed(lambda: masker.mask(page), args.repeat) for _ in range(5))
    print(f"masking the page with {SIZES[-1] + 60 * BATCH:,} known, both tiers in use: {after * 1e6:.1f} us")
    return 0


if __name__ == "__main__":
    sys.exit(main())
