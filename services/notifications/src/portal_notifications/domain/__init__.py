"""What message each event makes: plain Python, no I/O."""
