"""Pieces shared by every simulator: the simulated clock, the lab PKI, redacted request logs."""
