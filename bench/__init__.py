"""Benchmarks of Partner Portal (`make bench`): each module one benchmark, `run` runs the set."""
