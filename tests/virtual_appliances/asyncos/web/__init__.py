"""Protocol-level tests of the simulated appliance's web GUI, REST API and SMTP listener."""
