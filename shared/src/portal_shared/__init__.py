"""Partner Portal shared library: what every service does the same way."""
