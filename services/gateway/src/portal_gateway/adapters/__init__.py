"""The gateway database and its HTTP clients of the services."""
