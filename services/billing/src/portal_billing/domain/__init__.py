"""Billing rules (exact money, proration, invoice totals): plain Python, no I/O."""
