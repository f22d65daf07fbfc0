"""The GUI's URL paths (reference/asyncos.md section 3)."""

from __future__ import annotations

LOGIN_PATH = "/login"
LOGOUT_PATH = "/logout"
CLOUD_PATH = "/network/cloud_service_settings"
EDIT_PATH = f"{CLOUD_PATH}/edit"
REGISTER_PATH = f"{CLOUD_PATH}/register"
DEREGISTER_PATH = f"{CLOUD_PATH}/deregister"
REREGISTER_PATH = f"{CLOUD_PATH}/reregister"
COMMIT_PATH = "/commit"
ACCOUNT_PATH = "/system_administration/account_settings"
TRACKING_PATH = "/monitor_email_tracking/message_tracking"
DETAILS_PATH = f"{TRACKING_PATH}/details"
PUBLIC_PATHS = frozenset({LOGIN_PATH})
