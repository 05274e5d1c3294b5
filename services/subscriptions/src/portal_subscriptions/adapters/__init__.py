"""Database tables of service subscriptions."""
