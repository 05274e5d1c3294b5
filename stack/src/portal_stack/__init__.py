"""The embedded Partner Portal stack for `make run` and the tests (not deployed to production)."""
