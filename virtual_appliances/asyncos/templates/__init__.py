"""HTML building blocks for the appliance's legacy web interface (no JavaScript, server-rendered)."""
