"""Use cases of service notifications: one function per command, inside the caller's unit of work."""
