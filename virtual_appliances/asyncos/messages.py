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


# ---- CLI dialogs (cli_commands.py) -------------------------------------------------------------
# Seed 003's transcripts are reproduced with their line breaks and their quirks ("-SETTRS" without a
# space, "3.AMERICAS", a blank line after the ENABLE item and under the title of the REGISTER menu).
CLI_IDLE_NOTE = (  # reference/asyncos.md 1.1 (real CES login)
    "NOTE: This session will expire if left idle for 1440 minutes. Any uncommitted configuration changes will "
    "be lost. Commit the configuration changes as soon as they are made."
)
CLI_CHOOSE_OPERATION = "Choose the operation you want to perform:"  # seed 003
TRC_ENABLE_ITEM = "- ENABLE - To enable the Cisco Threat Response feature on your appliance."  # seed 003, ENA-6
TRC_DISABLE_ITEM = "- DISABLE - To disable the Cisco Threat Response feature on your appliance."  # seed 003, ENA-6
TRC_ENABLED = (  # seed 003, ENA-6 (the space at the end of the first line is the seed's)
    "The Cisco Threat Response feature is currently enabled on your appliance. Use the \n"
    "cloudserviceconfig command to register your appliance with the Cisco Threat\n"
    "Response portal."
)
TRC_DISABLED = "The Cisco Threat Response feature is currently disabled on your appliance."  # seed 003, ENA-6
CSC_REGISTER_ITEM = "- REGISTER - To register the appliance with the Cisco Threat Response portal."  # seed 003
CSC_DEREGISTER_ITEM = "- DEREGISTER - To deregister the appliance from the Cisco Threat Response\nportal."  # seed 003
CSC_REREGISTER_ITEM = "- REREGISTER - To reregister the appliance with the Cisco Cloud Services portal."  # inferred
CSC_SETTRS_ITEM = (  # seed 003
    "-SETTRS - Set the Threat Response Server to connect to the Cisco Threat Response portal."
)
CSC_TOKEN_PROMPT = (  # seed 003, REG-3
    "Enter a registration token key to register your appliance with the Cisco Threat\nResponse portal."
)
CSC_REGISTRATION_IN_PROGRESS = "The appliance registration is in progress."  # seed 003, REG-3
CSC_SERVERS_TITLE = "Available list of Threat Response Servers:"  # seed 003, REG-4
CSC_SERVER_PROMPT = "Enter threat response server to connect to the Cisco Threat Response portal.:"  # seed 003
CSC_DEREGISTER_CONFIRM = (  # seed 003, REG-5 (asked with [N]>)
    "Do you want to deregister your appliance from the Cisco Threat Response portal.\n\n"
    "If you deregister, you will not be able to access the Cloud Service features."
)
CSC_REREGISTER_SERVER_PROMPT = (  # inferred, REG-9
    "Enter the server to reregister with, or press Enter to keep the current server."
)
CSC_REREGISTER_TOKEN_PROMPT = (  # inferred, REG-9
    "Enter a registration token key for another smart account, or press Enter to reregister with an\n"
    "auto-generated token and the smart account of the appliance."
)
CSC_REREGISTRATION_IN_PROGRESS = "The appliance reregistration is in progress."  # inferred, REG-9
COMMIT_COMMENT_PROMPT = "Please enter some comments describing your changes:"  # seed 003, reference 1.3
COMMIT_ROLLBACK_PROMPT = "Do you want to save the current configuration for rollback?"  # reference 1.3 (14.x on)
CLEAR_CONFIRM = "Are you sure you want to clear all changes since the last commit?"  # reference 1.3
EXIT_UNCOMMITTED = "You have uncommitted changes. Are you sure you want to exit?"  # inferred (reference 1.3)
SWITCH_TO_MACHINE_MODE = 'Would you like to switch to "machine" mode?'  # inferred (reference 1.5)
CLUSTERMODE_MENU_TITLE = "Choose the configuration mode:"  # inferred


def cli_registered(product: str) -> str:
    # seed 003 wraps the REG-5 sentence before "Cisco Threat Response portal."
    return f"The {product} is successfully registered with the\nCisco Threat Response portal."


def server_selected(fqdn: str) -> str:
    return (  # seed 003, REG-4
        f"Selected threat response server is {fqdn}.\n"
        'Make sure you run "commit" to make these changes active.'
    )


def changes_committed(when: str) -> str:
    return f"Changes committed: {when}"  # seed 003, ENA-6


def changes_cleared(when: str) -> str:
    return f"Changes cleared: {when}"  # inferred (the commit wording)


def invalid_arguments(usage: str) -> str:
    return f"Invalid arguments.\nUsage: {usage}"  # inferred ("Invalid arguments" as Splunk SOAR expects)


def cluster_joined(cluster: str) -> str:
    return f"The appliance has joined the cluster {cluster}."  # inferred


def cluster_created(cluster: str) -> str:
    return f"Cluster {cluster} has been created."  # inferred


def appliance_title(family: str, model: str) -> str:
    """``Cisco C100V Email Security Virtual Appliance`` (reference 1.1); the family comes from the release."""
    virtual = " Virtual" if model.upper().endswith("V") else ""
    return f"Cisco {model} {family}{virtual} Appliance"


def version_report(product: str, model: str, version: str, serial: str) -> str:
    """``version`` (reference 1.4: the keys Netshot and Greenbone parse); dates and sizes inferred."""
    return (
        "Current Version\n===============\n"
        f"Product: {product}\nModel: {model}\nVersion: {version}\n"
        "Build Date: 2019-11-14\nInstall Date: 2020-01-06 09:12:44\n"
        f"Serial #: {serial}\nBIOS: 6.00\nCPUs: 2 expected, 2 allocated\n"
        "Memory: 8192 MB expected, 8192 MB allocated\nRAID: NA\nRAID Status: Unknown\nRAID Type: NA\nBMC: NA"
    )


# ---- Web GUI (gui/) -------------------------------------------------------------------------------
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
