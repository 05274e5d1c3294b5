"""Database tables of service billing."""
