"""Clients for the cloud side: SSE (tokens, devices) and Threat Response / SecureX, per region."""

from .ctr import REGIONS, ThreatResponseClient, observables
from .sse import SseAdmin, StaticTokenSource, TokenBatch, TokensExhausted, TokenSource, token_source

__all__ = [
    "REGIONS", "SseAdmin", "StaticTokenSource", "ThreatResponseClient", "TokenBatch", "TokenSource",
    "TokensExhausted", "observables", "token_source",
]
