"""Catalog, commerce and subscription rules: plain Python, no I/O."""
