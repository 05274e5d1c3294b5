"""Use cases of service billing: one function per command, inside the caller's unit of work."""
