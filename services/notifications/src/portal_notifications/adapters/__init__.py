"""Database tables of service notifications."""
