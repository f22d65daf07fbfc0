"""Cisco Threat Response simulator: IROH (OAuth2, inspect, enrich, response, int) and CTIA casebooks per region."""

from .cloud import CTRCloud

__all__ = ["CTRCloud"]
