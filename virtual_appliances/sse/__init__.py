"""Security Services Exchange simulator: per-region tenants, registration tokens, device registry, EST."""

from .cloud import SSECloud
from .model import Device, Tenant

__all__ = ["Device", "SSECloud", "Tenant"]
