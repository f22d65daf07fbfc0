"""Reporting: secret masking everywhere, Allure attachments, environment and categories."""

from .attachments import attach_file, attach_json, attach_text, exchange_sink
from .masking import MASK, Masker, MaskingFilter, add_credentials, add_secret, current, mask, scrub

__all__ = ["MASK", "Masker", "MaskingFilter", "add_credentials", "add_secret", "attach_file", "attach_json",
           "attach_text", "current", "exchange_sink", "mask", "scrub"]
