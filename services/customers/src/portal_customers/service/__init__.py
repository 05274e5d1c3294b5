"""Use cases of service customers: one function per command, each inside one unit of work."""
