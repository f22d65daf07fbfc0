"""Find many literal patterns in a text in one pass, with patterns added while texts are searched.

An Aho-Corasick automaton (``ahocorasick_rs``, the Rust ``aho-corasick`` crate) finds every
occurrence of every pattern in time linear in the text plus the matches, whatever the number of
patterns. Its automata are immutable, so patterns live in two of them:

* *settled*: most patterns, rebuilt only when *recent* has grown past an eighth of it (or
  :data:`RECENT_MIN`); the rebuilds double in size, so each pattern is rebuilt a bounded number of
  times on average (amortised O(1) work per pattern added, however many there are),
* *recent*: the patterns added since, rebuilt when a search finds patterns added since the last
  build: at most once per batch of additions, at a cost bounded by the size of *recent*. Once no
  pattern has been added for a while (:data:`FOLD_AFTER_SHARE`), it is folded into *settled*, so a
  run that has stopped learning secrets searches each text once.

Why not one automaton rebuilt on every addition: a run registers 100 registration tokens at a time
between searches, and rebuilding 10,000 patterns costs ~100 ms. Why not pyahocorasick, whose trie
takes additions in place: its search walks each node's children linearly, so on a page of ordinary
text it slows down 5-8x from 10 to 10,000 patterns (it still needs a full ``make_automaton`` after
each addition, too); the Rust automata search at a near-constant cost per character.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from dataclasses import dataclass

import ahocorasick_rs

RECENT_MIN = 512  # patterns: below this, rebuilding "recent" costs about a millisecond
RECENT_SHARE = 8  # "recent" is folded into "settled" when it outgrows 1/8 of it
# ... or when it has not changed for this many searches (at least FOLD_AFTER_MIN): a fold rebuilds the
# settled patterns at ~10 us each, and spares every later search a second pass (~100 us on a 20 KB page),
# so it has paid for itself after about settled/10 searches.
FOLD_AFTER_MIN = 64
FOLD_AFTER_SHARE = 16

Span = tuple[int, int]
_NFA = ahocorasick_rs.Implementation.ContiguousNFA


@dataclass(frozen=True)
class _Tier:
    patterns: tuple[str, ...]
    automaton: ahocorasick_rs.AhoCorasick | None

    @classmethod
    def build(cls, patterns: tuple[str, ...]) -> _Tier:
        # A contiguous NFA: built ~5x faster than the DFA the library picks for small sets, and searched
        # about as fast; a DFA of 10,000 secrets would take ~300 MB.
        return cls(patterns, ahocorasick_rs.AhoCorasick(patterns, implementation=_NFA) if patterns else None)


_EMPTY = _Tier((), None)


class PatternMatcher:
    """A growing set of literal patterns; :meth:`find` lists where any of them occurs.

    Thread-safe: once :meth:`add` has returned, every search in any thread finds the new patterns.
    Searches read one immutable pair of tiers; one that finds additions not yet built waits for the
    build (which holds the lock until the new pair is published).
    """

    def __init__(self) -> None:
        self._known: set[str] = set()
        self._pending: list[str] = []
        self._tiers_now: tuple[_Tier, _Tier] = (_EMPTY, _EMPTY)  # (settled, recent), replaced as a whole
        self._lock = threading.Lock()
        self._quiet_searches = 0  # searches since "recent" last changed
        self.builds = 0  # automata built so far (for tests and the benchmark)

    def __len__(self) -> int:
        return len(self._known)

    def __contains__(self, pattern: object) -> bool:
        return pattern in self._known

    @property
    def settled(self) -> tuple[str, ...]:
        return self._tiers_now[0].patterns

    @property
    def recent(self) -> tuple[str, ...]:
        return self._tiers_now[1].patterns

    def add(self, patterns: Iterable[str]) -> int:
        """Add patterns (empty ones and known ones are ignored); the number of new ones."""
        with self._lock:
            new = [p for p in dict.fromkeys(patterns) if p and p not in self._known]
            self._known.update(new)
            self._pending.extend(new)
            return len(new)

    def _tiers(self) -> tuple[_Tier, _Tier]:
        # ``_pending`` is read without the lock: it is emptied only after the tiers holding its
        # patterns are published, so "empty" means the current tiers have every pattern added so far.
        if self._pending:
            with self._lock:
                if self._pending:
                    settled, recent = self._tiers_now
                    grown = recent.patterns + tuple(self._pending)
                    fold = len(grown) > max(RECENT_MIN, len(settled.patterns) // RECENT_SHARE)
                    self._publish(grown, fold)
                    self._pending = []
        elif self._tiers_now[1].automaton is not None:
            self._quiet_searches += 1  # unlocked: an approximate count is all it needs
            if self._quiet_searches >= max(FOLD_AFTER_MIN, len(self.settled) // FOLD_AFTER_SHARE):
                with self._lock:
                    if not self._pending and self._tiers_now[1].automaton is not None:
                        self._publish(self.recent, fold=True)
        return self._tiers_now

    def _publish(self, recent: tuple[str, ...], fold: bool) -> None:
        settled = self._tiers_now[0]
        if fold:
            self._tiers_now = (_Tier.build(settled.patterns + recent), _EMPTY)
        else:
            self._tiers_now = (settled, _Tier.build(recent))
        self._quiet_searches = 0
        self.builds += 1

    def _matches(self, text: str) -> list[tuple[_Tier, int, int, int]]:
        return [(tier, index, start, end) for tier in self._tiers() if tier.automaton is not None
                for index, start, end in tier.automaton.find_matches_as_indexes(text, overlapping=True)]

    def find(self, text: str) -> list[tuple[str, Span]]:
        """Every occurrence of every pattern in ``text`` (overlapping ones too), as (pattern, (start, end))."""
        return [(tier.patterns[index], (start, end)) for tier, index, start, end in self._matches(text)]

    def spans(self, text: str) -> list[Span]:
        """The stretches of ``text`` covered by any occurrence, merged, in order."""
        hits = [(start, end) for _, _, start, end in self._matches(text)]
        if len(hits) < 2:
            return hits
        hits.sort()
        merged = [hits[0]]
        for start, end in hits[1:]:
            last_start, last_end = merged[-1]
            if start <= last_end:
                if end > last_end:
                    merged[-1] = (last_start, end)
            else:
                merged.append((start, end))
        return merged

    def patterns(self) -> list[str]:
        with self._lock:
            return list(self._known)
