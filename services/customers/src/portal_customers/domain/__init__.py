"""Rules of customers, partners and invitations: plain Python, no I/O."""
