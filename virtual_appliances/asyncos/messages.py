"""What the appliance says, word for word.

Strings quoted in the documents (seeds 002/003/004) are marked with their requirement ID. Strings the
documents do not quote are marked "inferred": they follow AsyncOS wording and are kept in one place so
they can be replaced by a capture from a real appliance.
"""

from __future__ import annotations

# ---- Network > Cloud Service Settings (GUI and status) ------------------------------------------
NO_SERVER = "No Server is set."  # ENA-1
STATUS_DISABLED = "Enable the Cloud Services on your appliance to use the Cisco Threat Response portal."  # ENA-1
STATUS_BUSY = (  # ENA-4
    "The Cisco Cloud Service is busy. Navigate back to this page after some time to check the appliance status."
)
STATUS_AWAITING_TOKEN = "Registration Token"  # ENA-4: the field label shown instead of a status line
STATUS_IN_PROGRESS = (  # REG-2
    "The appliance registration is in progress. Navigate back to this page after some time to check the "
    "appliance status."
)
COMMITTED = "Success \u2014 Your changes have been committed."  # ENA-4
REGISTER_INITIATED = (  # REG-2
    "Success \u2014 A request to register your appliance with the Cisco Threat Response portal is initiated. "
    "Navigate back to this page after some time to check the appliance status."
)
REGISTRATION_FAILED_TOKEN = "The registration failed because of an invalid or expired token."  # TS-4 (public code)
REGISTRATION_FAILED_NETWORK = (  # inferred
    "The registration failed because the appliance could not connect to the Cisco Cloud Service."
)
UNCOMMITTED_NOTICE = (  # seed 002/004 Uncommitted Changes page
    "You have uncommitted changes. These changes will not go into effect until you commit them."
)
REREGISTER_CONFIRM_TITLE = "Confirm reregistration"  # REG-9
REREGISTER_INITIATED = (  # inferred
    "Success \u2014 A request to reregister your appliance with the Cisco Cloud Services portal is initiated."
)


def product_name(kind: str) -> str:
    """How the appliance names itself in cloud service messages."""
    return {
        "sma": "Content Security Management appliance",  # seed 003
        "esa": "Email Security appliance",  # inferred from the SMA wording
        "gateway": "Email Security appliance",
    }[str(kind)]


def registered(product: str) -> str:
    # seed 003: "The Content Security Management appliance is successfully registered with the
    # Cisco Threat Response portal." (REG-5)
    return f"The {product} is successfully registered with the Cisco Threat Response portal."


def deregistering(product: str) -> str:
    # seed 003: "The Content Security Management appliance deregistration is in progress." (REG-5)
    return f"The {product} deregistration is in progress."


# ---- CLI ----------------------------------------------------------------------------------------
NOTHING_TO_COMMIT = "There is no data to commit."  # reference/asyncos.md 1.3
COMMIT_REFUSED = "An error occurred while committing the changes. Please try again."  # inferred (fault)
EMPTY_TOKEN = "Registration token cannot be empty."  # inferred
NOT_READY_FOR_TOKEN = (  # inferred
    "The Cisco Cloud Service is not ready to accept a registration token. Enable the Cisco Threat Response "
    "feature, commit your changes and try again after some time."
)
NOT_REGISTERED = "The appliance is not registered with the Cisco Threat Response portal."  # inferred
SERVER_NOT_AVAILABLE = "The selected server is not available on this appliance."  # inferred
REREGISTER_NEEDS_SMART_LICENSING = (  # inferred, PRE-6
    "Reregistration requires Smart Software Licensing to be enabled and the appliance to be registered "
    "with Cisco Smart Software Manager."
)
MACHINE_MODE_ONLY = 'This command is restricted to "machine" mode.'  # inferred, ENA-7/REG-10
DEREGISTER_BEFORE_CLUSTER = (  # inferred, REG-7
    "The appliance is registered with the Cisco Threat Response portal. Deregister the appliance before "
    "you join it to a cluster."
)
INVALID_MODE = "Invalid mode. Choose machine, cluster or group."  # inferred


def unknown_command(command: str) -> str:
    return f"Unknown command or missing feature key: {command}"  # reference/asyncos.md 1.2


def not_clustered(command: str) -> str:
    return f"Unknown command or missing feature key: {command}"  # clustermode on a standalone box


# ---- Web GUI (web_gui.py) ---------------------------------------------------------------------
LOGIN_FAILED = "Authentication failed: Invalid username or passphrase."  # inferred
CSRF_INVALID = "Your session has expired or the request is invalid. Please log in again."  # inferred (CSRFKey check)
NO_CHANGES_PENDING = "No Changes Pending"  # inferred: the header label while nothing is staged
CHANGES_ABANDONED = "Success \u2014 Your changes have been abandoned."  # inferred
DEREGISTER_INITIATED = (  # inferred, REG-5
    "Success \u2014 A request to deregister your appliance from the Cisco Threat Response portal is initiated. "
    "Navigate back to this page after some time to check the appliance status."
)
REREGISTER_CONFIRM_TEXT = (  # inferred, REG-9: the dialog shown when no token is given
    "No registration token was entered. The appliance will be reregistered with the Cisco Cloud Services portal "
    "using an auto-generated token and the smart account information. Do you want to continue?"
)
TRACKING_NO_RESULTS = "No messages found that match your search criteria."  # inferred
REMEDIATION_PROFILE_HELP = (  # inferred, REM-1
    "Threat Response remediation (Delete, Forward, Forward and Delete) needs an enabled remediation profile."
)

# ---- AsyncOS REST API (rest_api.py) -----------------------------------------------------------
API_BAD_CREDENTIALS = "Invalid username or passphrase."  # reference/asyncos.md 2 (stix-shifter test data)
API_MISSING_DATES = "Missing attribute - startDate or endDate."  # reference/asyncos.md 2
API_TOKEN_EXPIRED = "ExpiredSignatureError."  # reference/asyncos.md 2 (stix-shifter connector.py)
API_TOKEN_INVALID = "InvalidTokenError."  # reference/asyncos.md 2 (stix-shifter connector.py)
API_NOT_FOUND = "The requested resource was not found."  # inferred
API_REMEDIATION_DISABLED = (  # inferred, REM-1
    "Remediation is not enabled on this appliance. Enable a remediation profile in System Administration > "
    "Account Settings and commit your changes."
)
