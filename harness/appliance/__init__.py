"""Drivers for one appliance, each over its own protocol: SSH CLI, web GUI, REST API, SMTP."""

from .asyncos_cli import AsyncOSCli, ExecResult, Secret
from .gui import AsyncOSGui, TrackedRow
from .page import Page
from .rest import AsyncOSRest, TrackingRecord, api_date
from .smtp import SentMail, SmtpSender, send_mail

__all__ = [
    "AsyncOSCli", "AsyncOSGui", "AsyncOSRest", "ExecResult", "Page", "Secret", "SentMail", "SmtpSender",
    "TrackedRow", "TrackingRecord", "api_date", "send_mail",
]
