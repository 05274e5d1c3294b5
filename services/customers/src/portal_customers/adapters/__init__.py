"""Database tables and queries of service customers."""
