"""Roles, capabilities and the public route table: plain Python, no I/O."""
