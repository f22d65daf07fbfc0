"""Protocol-level tests of the SSE and Threat Response simulators."""
