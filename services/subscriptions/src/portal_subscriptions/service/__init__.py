"""Use cases of service subscriptions: one function per command, each inside one unit of work."""
